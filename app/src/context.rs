//! What the server hands every page render, server function and REST handler.
use std::any::{Any, TypeId};
use std::sync::Arc;

use sea_orm::DatabaseConnection;
use tokio::sync::Semaphore;

use crate::storage::Store;

#[derive(Clone)]
pub struct ServerContext {
    pub db: DatabaseConnection,
    pub settings: Arc<AppSettings>,
    pub store: Store,
    /// Bounds how many CPU-heavy audio jobs (decode, resample, encode) run at once.
    pub audio_jobs: Arc<Semaphore>,
    /// SQLite has no row locks: read-check-write sections take this instead (unused on PostgreSQL).
    pub write_lock: Arc<tokio::sync::Mutex<()>>,
    /// What this server keeps in memory between requests (shared by its clones).
    pub runtime: Arc<RuntimeState>,
}

/// Per-feature runtime state: caches, batch queues, the job worker's wake-up. It hangs off the
/// context rather than living in statics, so two servers in one process share none of it. Each
/// feature keeps one value of its own type here ([`RuntimeState::get`]); the context names no
/// feature, so every feature may depend on it without a cycle.
#[derive(Default)]
pub struct RuntimeState {
    slots: std::sync::RwLock<std::collections::HashMap<TypeId, Arc<dyn Any + Send + Sync>>>,
}

impl RuntimeState {
    /// This server's value of type `T`, made with `T::default()` on first use.
    pub fn get<T: Any + Default + Send + Sync>(&self) -> Arc<T> {
        let id = TypeId::of::<T>();
        let found = self.slots.read().unwrap_or_else(|e| e.into_inner()).get(&id).cloned();
        let slot = match found {
            Some(slot) => slot,
            None => self
                .slots
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .entry(id)
                .or_insert_with(|| Arc::new(T::default()))
                .clone(),
        };
        // The slot under `TypeId::of::<T>()` always holds a `T`.
        slot.downcast::<T>().unwrap_or_else(|_| unreachable!("runtime slot holds another type"))
    }
}

/// The slice of the server configuration the app itself needs.
#[derive(Clone, Debug, Default)]
pub struct AppSettings {
    /// Demo sign-in is offered (demo mode on and bound to loopback).
    pub demo_enabled: bool,
    /// An OAuth client is configured, so "Sign in with Google" is offered.
    pub oauth_enabled: bool,
    /// The provider's display name on the sign-in button.
    pub oauth_provider_name: String,
    /// E-mails that are made admins when they sign in (lower-case).
    pub admin_emails: Vec<String>,
    pub max_upload_bytes: u64,
    pub max_audio_seconds: u64,
    /// The sample rate every canonical object is stored at.
    pub canonical_rate: u32,
    pub default_license: crate::domain::Licence,
    /// Where uploads are staged while they arrive and are processed.
    pub tmp_dir: std::path::PathBuf,
    /// How long a served task stays reserved for its annotator.
    pub lease_seconds: i64,
    /// Where the server is reached from outside, without a trailing slash (the URIs a dataset
    /// release logs).
    pub public_url: String,
}

impl ServerContext {
    /// SQLite has no row locks: its read-check-write sections run one at a time in this process
    /// (PostgreSQL locks rows instead, and this is `None`).
    pub async fn serial(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        if crate::db::sql::is_postgres(&self.db) { None } else { Some(self.write_lock.lock().await) }
    }

    /// The context of the current render or server function.
    pub fn current() -> Result<Self, crate::error::AppError> {
        leptos::prelude::use_context::<Self>().ok_or_else(|| {
            tracing::error!("ServerContext missing from the leptos context");
            crate::error::AppError::Internal
        })
    }
}
