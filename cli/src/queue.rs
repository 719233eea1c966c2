//! `clerk-webhooks queue ...`: the recovery API of `clerk_webhooks::queue` for operators.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::args::SecretArgs;
use crate::secrets;
use clerk_webhooks::queue::{
    dead_jobs, requeue_all_dead, requeue_dead, sweep_done, ConnectOptions, DEFAULT_DONE_RETENTION,
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

/// Which queue: the Redis and the endpoint.
#[derive(Args)]
pub(crate) struct Target {
    /// The queue's Redis. Default: the REDIS_URL environment variable.
    #[arg(long, value_name = "URL")]
    redis: Option<String>,
    /// The endpoint's namespace, as your server's `layer.endpoint()` (or
    /// `Verifier::with_endpoint`) names it. Default: the one derived from the signing secret
    /// (the environment, --secret-file or --secret-stdin), as the server derives it.
    #[arg(long, value_name = "ENDPOINT")]
    endpoint: Option<String>,
    /// Where the signing secret comes from, to derive the namespace.
    #[command(flatten)]
    secrets: SecretArgs,
}

impl Target {
    fn endpoint(&self) -> Result<String, String> {
        match &self.endpoint {
            Some(endpoint) => Ok(endpoint.clone()),
            None => Ok(secrets::verifier(&self.secrets)?.endpoint().to_owned()),
        }
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
    println!("{} dead job(s) in the queue of {endpoint}", jobs.len());
    for job in jobs {
        let error = job
            .error
            .as_deref()
            .unwrap_or("-")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        println!(
            "{}\tsvix-id {}\t{}\tattempts {}\tdied at {}\t{error}",
            job.task_id,
            job.svix_id.as_deref().unwrap_or("-"),
            job.status.as_deref().unwrap_or("-"),
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
