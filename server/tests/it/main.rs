//! Integration tests: the real server on an ephemeral port against a fresh database (SQLite by
//! default; PostgreSQL when `TUTTI_TEST_POSTGRES` names a server), driven over HTTP.
mod child;
mod clients;
mod helpers;

mod adapters;
mod annotate;
mod annotate_choice;
mod api;
mod auth;
mod cleanup;
mod csrf;
mod dashboard;
mod dataset_cli;
mod datasets;
mod hardening;
mod ingest;
mod jobs;
mod library;
mod matrix;
mod pages;
mod review;
mod schema;
mod site;
mod slow_clients;
mod state;
mod studio;
mod token_scopes;
