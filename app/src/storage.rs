//! The object store holding audio bytes (local directory or S3), and the two ways objects are
//! written: whole (small objects) and streamed from a file (originals, canonical audio). Both are
//! atomic: an object is visible only once complete.
use std::io::Read;
use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, PutPayload, WriteMultipart};

pub type Store = Arc<dyn ObjectStore>;

const PART: usize = 8 << 20;

pub async fn put_bytes(store: &Store, key: &str, bytes: Vec<u8>) -> object_store::Result<()> {
    store.put(&Path::from(key), PutPayload::from(bytes)).await.map(|_| ())
}

/// Stream a file into the store without holding it in memory.
pub async fn put_file(store: &Store, key: &str, file: std::fs::File) -> object_store::Result<()> {
    let upload = store.put_multipart(&Path::from(key)).await?;
    let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(2);
    // Reading is blocking I/O: do it on the blocking pool, a bounded channel keeps memory flat.
    let reader = tokio::task::spawn_blocking(move || {
        let mut file = file;
        loop {
            let mut buf = vec![0u8; PART];
            match file.read(&mut buf) {
                Ok(0) => return,
                Ok(n) => {
                    buf.truncate(n);
                    if tx.blocking_send(Ok(Bytes::from(buf))).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    while let Some(chunk) = rx.recv().await {
        match chunk {
            Ok(bytes) => {
                writer.wait_for_capacity(2).await?;
                writer.put(bytes);
            }
            Err(e) => {
                writer.abort().await?;
                return Err(object_store::Error::Generic { store: "file", source: Box::new(e) });
            }
        }
    }
    let _ = reader.await;
    writer.finish().await.map(|_| ())
}

/// Best-effort removal, used to undo a half-finished write; a missing object is fine.
pub async fn delete_quietly(store: &Store, key: &str) {
    if let Err(e) = store.delete(&Path::from(key)).await
        && !matches!(e, object_store::Error::NotFound { .. })
    {
        tracing::warn!(error = %e, key, "could not delete object");
    }
}
