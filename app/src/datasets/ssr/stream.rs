//! A release's archive as a stream of bytes, from its list of files: the layout says where each
//! header, file and padding falls, so any byte range is produced without producing what comes
//! before it, and nothing larger than one chunk of one file is held in memory.
use bytes::Bytes;
use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use object_store::{GetOptions, GetRange, path::Path};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use crate::context::ServerContext;
use crate::db::{audio, dataset_release, release_file};
use crate::error::AppError;

/// Files up to this size are read whole (one buffer in memory at a time); larger ones are streamed.
const WHOLE: u64 = 8 << 20;

/// The two archive formats a release is offered in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Tar,
    Zip,
}

impl Format {
    pub fn parse(ext: &str) -> Option<Format> {
        match ext {
            "tar" => Some(Format::Tar),
            "zip" => Some(Format::Zip),
            _ => None,
        }
    }
    pub fn ext(self) -> &'static str {
        match self {
            Format::Tar => "tar",
            Format::Zip => "zip",
        }
    }
    pub fn mime(self) -> &'static str {
        match self {
            Format::Tar => "application/x-tar",
            Format::Zip => "application/zip",
        }
    }
}

/// A release's archive, laid out and ready to stream.
pub struct Archive {
    entries: Vec<dataset::archive::Entry>,
    /// Where each entry's bytes are stored (entry `i` is `Content::Blob(i)`).
    keys: Vec<String>,
    layout: dataset::archive::Layout,
}

impl Archive {
    pub async fn open(
        db: &impl ConnectionTrait,
        r: &dataset_release::Model,
        format: Format,
    ) -> Result<Archive, AppError> {
        let files = release_file::Entity::find()
            .filter(release_file::Column::ReleaseId.eq(r.id))
            .order_by_asc(release_file::Column::Position)
            .all(db)
            .await?;
        if files.is_empty() {
            return Err(AppError::NotFound);
        }
        let clip_ids: Vec<Uuid> = files.iter().filter_map(|f| f.audio_id).collect();
        let mut canonical = std::collections::HashMap::with_capacity(clip_ids.len());
        for part in clip_ids.chunks(5_000) {
            for a in audio::Entity::find().filter(audio::Column::Id.is_in(part.to_vec())).all(db).await? {
                canonical.insert(a.id, a.canonical_key);
            }
        }
        let mut entries = Vec::with_capacity(files.len());
        let mut keys = Vec::with_capacity(files.len());
        for (i, f) in files.into_iter().enumerate() {
            let key = match (f.storage_key, f.audio_id) {
                (Some(k), _) => k,
                (None, Some(a)) => canonical.get(&a).cloned().ok_or_else(|| {
                    AppError::internal("a release's audio", format!("clip {a} of release {} is gone", r.id))
                })?,
                (None, None) => return Err(AppError::internal("a release's files", "a file with no source")),
            };
            keys.push(key);
            entries.push(dataset::archive::Entry {
                path: f.path,
                size: f.size as u64,
                crc32: f.crc32 as u32,
                sha256: f.sha256,
                content: dataset::archive::Content::Blob(i),
            });
        }
        let params: dataset::Params =
            serde_json::from_str(&r.params).map_err(|e| AppError::internal("a release's parameters", e))?;
        let mtime = super::gather::as_of(&params)?.timestamp().max(0) as u64;
        let layout = match format {
            Format::Tar => dataset::archive::Layout::tar(&entries, mtime),
            Format::Zip => dataset::archive::Layout::zip(&entries, mtime),
        };
        Ok(Archive { entries, keys, layout })
    }

    pub fn len(&self) -> u64 {
        self.layout.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The bytes in `range` (already checked to lie within the archive).
    pub fn stream(
        &self,
        ctx: &ServerContext,
        range: std::ops::Range<u64>,
    ) -> BoxStream<'static, std::io::Result<Bytes>> {
        enum Owned {
            Bytes(Bytes),
            Blob { key: String, offset: u64, len: u64 },
        }
        let pieces: Vec<Owned> = self
            .layout
            .pieces(&self.entries, range)
            .map(|p| match p {
                dataset::archive::Piece::Bytes(b) => Owned::Bytes(Bytes::copy_from_slice(&b)),
                dataset::archive::Piece::Blob { sample, offset, len } => {
                    Owned::Blob { key: self.keys[sample].clone(), offset, len }
                }
            })
            .collect();
        let store = ctx.store.clone();
        stream::iter(pieces)
            .map(move |p| match p {
                Owned::Bytes(b) => stream::once(async move { Ok(b) }).boxed(),
                Owned::Blob { len: 0, .. } => stream::empty().boxed(),
                // A clip is read in one call: the store's own stream hands out small chunks, and
                // per-chunk overhead, not the disk, then bounds the download's speed.
                Owned::Blob { key, offset, len } if len <= WHOLE => {
                    let store = store.clone();
                    stream::once(async move {
                        store.get_range(&Path::from(key), offset..offset + len).await.map_err(std::io::Error::other)
                    })
                    .boxed()
                }
                Owned::Blob { key, offset, len } => {
                    let store = store.clone();
                    stream::once(async move {
                        let opts =
                            GetOptions { range: Some(GetRange::Bounded(offset..offset + len)), ..Default::default() };
                        store.get_opts(&Path::from(key), opts).await.map(|g| g.into_stream())
                    })
                    .try_flatten()
                    .map_err(std::io::Error::other)
                    .boxed()
                }
            })
            .flatten()
            .boxed()
    }
}
