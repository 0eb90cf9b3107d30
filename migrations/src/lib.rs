//! Schema migrations for Tutti. One migration per schema change; a landed migration is never edited.
//! The same migrations run on SQLite (the embedded default) and PostgreSQL.
pub use sea_orm_migration::prelude::*;

mod m20261122_000001_foundation;
mod m20261122_000002_audio;
mod m20261122_000003_annotation;
mod m20261122_000004_studio;
mod m20261122_000005_latency;
mod m20261122_000006_annotation_perf;
mod m20261122_000007_annotation_batches;
mod m20261122_000008_skips_and_clip_identity;
mod m20261122_000009_mixdown_access_and_one_master;
mod m20261207_000010_cleanup_runs;
mod m20261207_000011_mixdown_identity;
mod m20261207_000012_jobs;
mod m20261207_000013_job_requester;
mod m20261207_000014_job_listing;
mod m20261207_000015_mixdown_recipe;
mod m20261208_000016_annotator_help;
mod m20261208_000017_datasets;
mod m20261208_000018_token_scopes;
mod m20261208_000019_dashboard;

pub struct Migrator;

/// A named foreign key from `from.0`.`from.1` to `to`.`id`.
pub(crate) fn fk(
    name: &str,
    from: (&'static str, &'static str),
    to: &'static str,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from.0, from.1).to(to, "id").on_delete(on_delete).to_owned()
}

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_foundation::Migration),
            Box::new(m20261122_000002_audio::Migration),
            Box::new(m20261122_000003_annotation::Migration),
            Box::new(m20261122_000004_studio::Migration),
            Box::new(m20261122_000005_latency::Migration),
            Box::new(m20261122_000006_annotation_perf::Migration),
            Box::new(m20261122_000007_annotation_batches::Migration),
            Box::new(m20261122_000008_skips_and_clip_identity::Migration),
            Box::new(m20261122_000009_mixdown_access_and_one_master::Migration),
            Box::new(m20261207_000010_cleanup_runs::Migration),
            Box::new(m20261207_000011_mixdown_identity::Migration),
            Box::new(m20261207_000012_jobs::Migration),
            Box::new(m20261207_000013_job_requester::Migration),
            Box::new(m20261207_000014_job_listing::Migration),
            Box::new(m20261207_000015_mixdown_recipe::Migration),
            Box::new(m20261208_000016_annotator_help::Migration),
            Box::new(m20261208_000017_datasets::Migration),
            Box::new(m20261208_000018_token_scopes::Migration),
            Box::new(m20261208_000019_dashboard::Migration),
        ]
    }
}

/// The instrument taxonomy seeded on a fresh database: OpenMIC-2018's 20 classes with their family.
pub const OPENMIC_INSTRUMENTS: [(&str, &str, &str); 20] = [
    ("accordion", "Accordion", "keyboards"),
    ("banjo", "Banjo", "plucked strings"),
    ("bass", "Bass", "plucked strings"),
    ("cello", "Cello", "bowed strings"),
    ("clarinet", "Clarinet", "woodwinds"),
    ("cymbals", "Cymbals", "percussion"),
    ("drums", "Drums", "percussion"),
    ("flute", "Flute", "woodwinds"),
    ("guitar", "Guitar", "plucked strings"),
    ("mallet_percussion", "Mallet percussion", "percussion"),
    ("mandolin", "Mandolin", "plucked strings"),
    ("organ", "Organ", "keyboards"),
    ("piano", "Piano", "keyboards"),
    ("saxophone", "Saxophone", "woodwinds"),
    ("synthesizer", "Synthesizer", "electronic"),
    ("trombone", "Trombone", "brass"),
    ("trumpet", "Trumpet", "brass"),
    ("ukulele", "Ukulele", "plucked strings"),
    ("violin", "Violin", "bowed strings"),
    ("voice", "Voice", "voice"),
];
