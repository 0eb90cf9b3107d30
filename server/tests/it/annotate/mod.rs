//! Campaigns, the task builder, serving under leases, submissions and consensus, over HTTP.
mod answers;
mod building;
mod common;
mod concurrency;
mod serving;
