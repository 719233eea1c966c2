//! `clerk-webhooks queue ...`: the recovery API of `clerk_webhooks::queue` for operators.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::text::printable;
use clerk_webhooks_redis::queue::{
    dead_jobs, requeue_all_dead, requeue_dead, sweep_done, ConnectOptions, DEFAULT_DONE_RETENTION,
    QUEUE_ENV_VAR,
};
use redis::aio::ConnectionManager;

#[derive(Subcommand)]
pub(crate) enum QueueCommand {
    /// List the jobs apalis gave up on (out of attempts, or killed): task id, svix-id,
    /// status, attempts, when, last error.
    ///
    /// Example: clerk-webhooks queue dead --redis redis://127.0.0.1:6379/ --endpoint myapp
    Dead(Target),
    /// Queue dead jobs again, attempts reset: one by its task id, or all of them with --all.
    ///
    /// Example: clerk-webhooks queue requeue --redis redis://127.0.0.1:6379/ --endpoint myapp --all
    Requeue {
        #[command(flatten)]
        target: Target,
        /// Every dead job of the queue.
        #[arg(long, conflicts_with = "task_id", required_unless_present = "task_id")]
        all: bool,
        /// The task id of one dead job (as `queue dead` lists it).
        #[arg(value_name = "TASK_ID")]
        task_id: Option<String>,
    },
    /// Delete the jobs that finished successfully longer ago than the retention (their data
    /// and metadata); waiting, running, retrying and dead jobs are never touched.
    ///
    /// Example: clerk-webhooks queue sweep --redis redis://127.0.0.1:6379/ --endpoint myapp
    Sweep {
        #[command(flatten)]
        target: Target,
        /// Keep finished jobs this many hours. Default: 168 (7 days).
        #[arg(long, value_name = "HOURS")]
        older_than_hours: Option<u64>,
    },
}

/// Which queue: the Redis and the queue's name.
#[derive(Args)]
pub(crate) struct Target {
    /// The queue's Redis. Default: the REDIS_URL environment variable.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// The queue's name: the one your app gives `RedisQueue::connect` and `Worker::connect`.
    /// Default: the CLERK_WEBHOOK_QUEUE environment variable (as the queue_worker example reads
    /// it).
    #[arg(long, visible_alias = "endpoint", value_name = "NAME")]
    queue: Option<String>,
}

impl Target {
    /// The queue's name, from the flag or the environment; never guessed, since a guess lists
    /// "0 dead jobs" of a queue nobody uses.
    fn endpoint(&self) -> Result<String, String> {
        self.queue
            .clone()
            .or_else(|| std::env::var(QUEUE_ENV_VAR).ok())
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty())
            .ok_or_else(|| {
                format!(
                    "which queue? pass --queue NAME (the name your app gives \
                     RedisQueue::connect and Worker::connect) or set {QUEUE_ENV_VAR}"
                )
            })
    }

    async fn connect(&self) -> Result<ConnectionManager, String> {
        let url = match &self.redis {
            Some(url) => url.clone(),
            None => std::env::var("REDIS_URL")
                .ok()
                .filter(|url| !url.trim().is_empty())
                .ok_or("no Redis: pass --redis URL or set REDIS_URL")?,
        };
        // The library's own connection, with room for an operator's slow scans. The URL may
        // hold a password: errors name the problem, not the URL.
        ConnectOptions::new(&url)
            .connection_timeout(Duration::from_secs(5))
            .response_timeout(Duration::from_secs(30))
            .connect()
            .await
            .map_err(|err| format!("cannot reach Redis: {err}"))
    }
}

pub(crate) fn run(command: &QueueCommand) -> Result<ExitCode, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("cannot start the runtime: {err}"))?;
    runtime.block_on(async {
        match command {
            QueueCommand::Dead(target) => dead(target).await,
            QueueCommand::Requeue {
                target,
                all,
                task_id,
            } => requeue(target, *all, task_id.as_deref()).await,
            QueueCommand::Sweep {
                target,
                older_than_hours,
            } => sweep(target, *older_than_hours).await,
        }
    })
}

async fn dead(target: &Target) -> Result<ExitCode, String> {
    let endpoint = target.endpoint()?;
    let mut connection = target.connect().await?;
    let jobs = dead_jobs(&mut connection, &endpoint)
        .await
        .map_err(|err| err.to_string())?;
    println!(
        "{} dead job(s) in the queue of {}",
        jobs.len(),
        field(Some(&endpoint))
    );
    for job in jobs {
        // Every field read from Redis is escaped: a handler's error text (or anything written
        // to Redis) must not drive the operator's terminal.
        let error = field(job.error.as_deref())
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        println!(
            "{}\tsvix-id {}\t{}\tattempts {}\tdied at {}\t{error}",
            field(Some(&job.task_id)),
            field(job.svix_id.as_deref()),
            field(job.status.as_deref()),
            job.attempts
                .map_or_else(|| "-".to_owned(), |n| n.to_string()),
            job.died_at
                .map_or_else(|| "-".to_owned(), |at| at.to_string()),
        );
    }
    Ok(ExitCode::SUCCESS)
}

async fn requeue(target: &Target, all: bool, task_id: Option<&str>) -> Result<ExitCode, String> {
    let endpoint = target.endpoint()?;
    let mut connection = target.connect().await?;
    if all {
        let count = requeue_all_dead(&mut connection, &endpoint)
            .await
            .map_err(|err| err.to_string())?;
        println!("requeued {count} dead job(s) in the queue of {endpoint}");
        return Ok(ExitCode::SUCCESS);
    }
    let task_id = task_id.ok_or("give a TASK_ID or --all")?;
    let requeued = requeue_dead(&mut connection, &endpoint, task_id)
        .await
        .map_err(|err| err.to_string())?;
    if requeued {
        println!("requeued {task_id}");
        Ok(ExitCode::SUCCESS)
    } else {
        println!(
            "not requeued: {task_id} is not a dead job of the queue of {endpoint} (or its data \
             is gone, or its delivery has since got a new job)"
        );
        Ok(ExitCode::FAILURE)
    }
}

async fn sweep(target: &Target, older_than_hours: Option<u64>) -> Result<ExitCode, String> {
    let endpoint = target.endpoint()?;
    let retention = older_than_hours.map_or(DEFAULT_DONE_RETENTION, |hours| {
        Duration::from_secs(hours.saturating_mul(3600))
    });
    let mut connection = target.connect().await?;
    let swept = sweep_done(&mut connection, &endpoint, retention)
        .await
        .map_err(|err| err.to_string())?;
    println!(
        "swept {swept} job(s) finished more than {} hour(s) ago from the queue of {endpoint}",
        retention.as_secs() / 3600
    );
    Ok(ExitCode::SUCCESS)
}

/// A value read from Redis as a terminal may show it: control characters escaped, `-` for none.
fn field(value: Option<&str>) -> String {
    value.map_or_else(|| "-".to_owned(), |text| printable(text.as_bytes()))
}
