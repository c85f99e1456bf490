//! A worker process killed with SIGKILL in the middle of a job: the job is retried by another
//! worker once the dead worker's lease expires, and completes once.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use vitrina::config::{DatabaseConfig, OutboxConfig, Secret};
use vitrina::outbox::{Handlers, JobState, NewJob, Outbox, Worker};
use vitrina::store::testing::TestDb;
use vitrina::store::{Backend, Store};
use vitrina::store_test;

const LEASE: Duration = Duration::from_secs(2);

fn config() -> OutboxConfig {
    OutboxConfig {
        lease: LEASE,
        ..OutboxConfig::default()
    }
}

/// Runs in the child process only: claims the job, says so, then hangs until killed.
#[tokio::test]
#[ignore = "spawned by killed_worker_job_is_retried_after_lease_expiry"]
async fn child_worker() {
    // Run by hand (`--ignored`) without its parent, it has nothing to do: fail rather than pass.
    let (Ok(url), Ok(marker)) = (
        std::env::var("OUTBOX_CHILD_DB"),
        std::env::var("OUTBOX_CHILD_MARKER"),
    ) else {
        panic!(
            "child_worker runs only as the child of killed_worker_job_is_retried \
             (OUTBOX_CHILD_DB and OUTBOX_CHILD_MARKER unset)"
        );
    };
    let store = Store::connect(&DatabaseConfig {
        url: Secret::new(url),
        ..Default::default()
    })
    .await
    .unwrap();
    let handlers = Handlers::new().on("hang", move |_| {
        let marker = marker.clone();
        async move {
            std::fs::write(&marker, b"claimed").unwrap();
            tokio::time::sleep(Duration::from_secs(3600)).await;
            Ok(())
        }
    });
    let worker = Worker::new(Outbox::new(store, config()), handlers, "child");
    worker.run_once().await.unwrap();
}

async fn killed_worker_job_is_retried(backend: Backend) {
    let db = TestDb::new(backend).await;
    let outbox = Outbox::new(db.store.clone(), config());
    let id = outbox
        .enqueue_now(NewJob::new("hang", serde_json::json!({})))
        .await
        .unwrap()
        .unwrap();
    let marker = tempfile::tempdir().unwrap();
    let marker_path: PathBuf = marker.path().join("claimed");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_worker", "--ignored", "--nocapture"])
        .env("OUTBOX_CHILD_DB", db.url())
        .env("OUTBOX_CHILD_MARKER", &marker_path)
        .spawn()
        .unwrap();
    let started = Instant::now();
    while !marker_path.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "child never claimed the job"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL: no cleanup, the lease stays in the database
    child.wait().unwrap();
    let killed_at = Instant::now();

    let handlers = Handlers::new().on("hang", |_| async { Ok(()) });
    let worker = Worker::new(outbox.clone(), handlers, "survivor");
    assert!(
        !worker.run_once().await.unwrap(),
        "the job is still leased to the dead worker"
    );
    loop {
        if worker.run_once().await.unwrap() {
            break;
        }
        assert!(
            killed_at.elapsed() < LEASE * 5,
            "job not retried after lease expiry"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        killed_at.elapsed() >= LEASE - Duration::from_millis(500),
        "retried before the lease expired"
    );
    let rows = outbox.list(Some(JobState::Done), 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, id);
    assert_eq!(
        rows[0].attempts, 2,
        "one attempt by the killed worker, one by the survivor"
    );
}

store_test!(killed_worker_job_is_retried_after_lease_expiry, backend: killed_worker_job_is_retried);
