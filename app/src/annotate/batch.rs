//! Gathering concurrent requests into one database call.
//!
//! A request is sent to a batcher's queue; a dispatcher takes whatever is queued (up to
//! `max_batch`) as soon as one of its `in_flight` slots is free and runs it as one call. When the
//! database keeps up, every batch holds a single request and nothing waits; when it does not,
//! requests pile up while earlier batches run and the next call carries them all, so the cost of
//! a round trip, a statement and a commit is shared.
use std::future::Future;
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};

type Reply<O> = oneshot::Sender<Option<O>>;

pub struct Batcher<I, O> {
    queue: mpsc::UnboundedSender<(I, Reply<O>)>,
}

impl<I: Send + 'static, O: Send + 'static> Batcher<I, O> {
    /// `run` gets the items of a batch and returns one output per item, in order. Must be called
    /// inside a tokio runtime; the dispatcher stops when the batcher is dropped.
    pub fn new<F, Fut>(max_batch: usize, in_flight: usize, run: F) -> Self
    where
        F: Fn(Vec<I>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Option<Vec<O>>> + Send + 'static,
    {
        let (queue, mut rx) = mpsc::unbounded_channel::<(I, Reply<O>)>();
        let run = Arc::new(run);
        let slots = Arc::new(Semaphore::new(in_flight.max(1)));
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let Ok(slot) = slots.clone().acquire_owned().await else { break };
                // Everything that arrived while waiting for the slot goes in this batch.
                let mut batch = vec![first];
                while batch.len() < max_batch
                    && let Ok(next) = rx.try_recv()
                {
                    batch.push(next);
                }
                let run = run.clone();
                tokio::spawn(async move {
                    let (items, replies): (Vec<I>, Vec<Reply<O>>) = batch.into_iter().unzip();
                    let n = items.len();
                    match run(items).await {
                        Some(outs) if outs.len() == n => {
                            for (reply, out) in replies.into_iter().zip(outs) {
                                let _ = reply.send(Some(out));
                            }
                        }
                        _ => {
                            for reply in replies {
                                let _ = reply.send(None);
                            }
                        }
                    }
                    drop(slot);
                });
            }
        });
        Batcher { queue }
    }

    /// The item's output, or `None` when its batch failed as a whole (the caller then serves the
    /// request on its own).
    pub async fn call(&self, item: I) -> Option<O> {
        let (reply, rx) = oneshot::channel();
        self.queue.send((item, reply)).ok()?;
        rx.await.ok().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::time::Duration;

    #[tokio::test]
    async fn gathers_what_queues_while_a_batch_runs_and_keeps_order() {
        let sizes = Arc::new(Mutex::new(Vec::new()));
        let seen = sizes.clone();
        let b = Arc::new(Batcher::new(8, 1, move |items: Vec<u32>| {
            seen.lock().unwrap().push(items.len());
            async move {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Some(items.into_iter().map(|i| i * 10).collect())
            }
        }));
        let mut handles = Vec::new();
        for i in 0..20u32 {
            let b = b.clone();
            handles.push(tokio::spawn(async move { (i, b.call(i).await) }));
        }
        for h in handles {
            let (i, out) = h.await.unwrap();
            assert_eq!(out, Some(i * 10));
        }
        let sizes = sizes.lock().unwrap().clone();
        assert_eq!(sizes.iter().sum::<usize>(), 20);
        assert!(sizes.iter().all(|&n| n <= 8), "{sizes:?}");
        assert!(sizes.len() < 20, "requests that queued together were batched: {sizes:?}");
    }

    #[tokio::test]
    async fn a_failed_batch_answers_none_to_each_item() {
        let b = Batcher::new(4, 2, |_items: Vec<u32>| async { None::<Vec<u32>> });
        assert_eq!(b.call(1).await, None);
        let short = Batcher::new(4, 2, |_items: Vec<u32>| async { Some(Vec::<u32>::new()) });
        assert_eq!(short.call(1).await, None, "a batch returning too few outputs fails every item");
    }
}
