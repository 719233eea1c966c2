//! A `Worker` running in the background, stopped gracefully or killed like a process.

use std::future::Future;

use clerk_webhooks::queue::{QueuedDelivery, WorkerHealth};
use clerk_webhooks::BoxError;
use clerk_webhooks_redis::queue::{QueueError, Worker};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct RunningWorker {
    pub name: String,
    pub health: WorkerHealth,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), QueueError>>,
}

impl RunningWorker {
    /// Runs `worker` on `handler` until [`stop`](Self::stop) or [`kill`](Self::kill).
    pub fn start<H, Fut>(worker: Worker, handler: H) -> Self
    where
        H: Fn(QueuedDelivery) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), BoxError>> + Send + 'static,
    {
        let (stop, stopped) = oneshot::channel::<()>();
        let name = worker.name().to_owned();
        let health = worker.health();
        let task = tokio::spawn(worker.run(handler, async {
            let _ = stopped.await;
        }));
        Self {
            name,
            health,
            stop: Some(stop),
            task,
        }
    }

    /// A graceful stop (`SIGTERM`): waits until the worker has finished and returned.
    pub async fn stop(mut self) -> Result<(), QueueError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        (&mut self.task).await.expect("the worker panicked")
    }

    /// Waits for `run` to return by itself (refused at start, say).
    pub async fn returned(mut self) -> Result<(), QueueError> {
        (&mut self.task).await.expect("the worker panicked")
    }

    /// As `kill -9` ends a process: everything it runs is dropped where it is, and its
    /// registration stays in Redis until its lease expires.
    pub async fn kill(self) {
        self.task.abort();
        let _ = self.task.await;
    }

    /// Whether `run` returned (an error at start, say).
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }
}
