//! Outbox behaviour on both backends.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::store::testing::TestDb;
use crate::store_test;

fn fast_config() -> OutboxConfig {
    OutboxConfig {
        workers: 1,
        lease: Duration::from_secs(5),
        max_attempts: 5,
        backoff_base: Duration::from_millis(1),
        backoff_max: Duration::from_millis(5),
        poll_interval: Duration::from_millis(10),
    }
}

async fn drain(worker: &Worker, until: impl Fn() -> bool) {
    for _ in 0..500 {
        if until() {
            return;
        }
        if !worker.run_once().await.expect("run") {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    panic!("outbox did not reach the expected state");
}

store_test!(
    fails_three_times_then_completes_exactly_once,
    |db: TestDb| async move {
        let outbox = Outbox::new(db.store.clone(), fast_config());
        let calls = Arc::new(AtomicUsize::new(0));
        let successes = Arc::new(AtomicUsize::new(0));
        let (c, s) = (calls.clone(), successes.clone());
        let handlers = Handlers::new().on("flaky", move |_job| {
            let (c, s) = (c.clone(), s.clone());
            async move {
                if c.fetch_add(1, Ordering::SeqCst) < 3 {
                    Err(JobError::retry("remote side is down"))
                } else {
                    s.fetch_add(1, Ordering::SeqCst);
                    Ok(())
                }
            }
        });
        let id = outbox
            .enqueue_now(NewJob::new("flaky", serde_json::json!({"n": 1})))
            .await
            .unwrap()
            .unwrap();
        let worker = Worker::new(outbox.clone(), handlers, "w1");
        let s2 = successes.clone();
        drain(&worker, move || s2.load(Ordering::SeqCst) == 1).await;
        // Nothing more runs after success.
        for _ in 0..20 {
            assert!(!worker.run_once().await.unwrap());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        assert_eq!(successes.load(Ordering::SeqCst), 1);
        let rows = outbox.list(Some(JobState::Done), 10).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].id, id);
        assert_eq!(rows[0].attempts, 4);
        assert_eq!(outbox.depth().await.unwrap().pending, 0);
    }
);

store_test!(
    concurrent_workers_never_share_a_job,
    |db: TestDb| async move {
        const JOBS: usize = 120;
        let outbox = Outbox::new(db.store.clone(), fast_config());
        for n in 0..JOBS {
            outbox
                .enqueue_now(NewJob::new("work", serde_json::json!({ "n": n })))
                .await
                .unwrap();
        }
        let running: Arc<Mutex<HashSet<i64>>> = Arc::default();
        let done: Arc<Mutex<Vec<i64>>> = Arc::default();
        let overlaps = Arc::new(AtomicUsize::new(0));
        let handlers = {
            let (running, done, overlaps) = (running.clone(), done.clone(), overlaps.clone());
            Handlers::new().on("work", move |job| {
                let (running, done, overlaps) = (running.clone(), done.clone(), overlaps.clone());
                async move {
                    if !running.lock().unwrap().insert(job.id) {
                        overlaps.fetch_add(1, Ordering::SeqCst);
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    running.lock().unwrap().remove(&job.id);
                    done.lock().unwrap().push(job.id);
                    Ok(())
                }
            })
        };
        let mut tasks = Vec::new();
        for w in 0..6 {
            let worker = Worker::new(outbox.clone(), handlers.clone(), format!("w{w}"));
            tasks.push(tokio::spawn(async move {
                let mut idle = 0;
                while idle < 20 {
                    if worker.run_once().await.expect("run") {
                        idle = 0;
                    } else {
                        idle += 1;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(
            overlaps.load(Ordering::SeqCst),
            0,
            "two workers ran one job at the same time"
        );
        let mut done = done.lock().unwrap().clone();
        done.sort_unstable();
        let before = done.len();
        done.dedup();
        assert_eq!(before, JOBS, "every job ran exactly once");
        assert_eq!(done.len(), JOBS);
        assert_eq!(
            outbox.list(Some(JobState::Done), 1000).await.unwrap().len(),
            JOBS
        );
    }
);

store_test!(
    dead_letter_is_listed_and_can_be_retried,
    |db: TestDb| async move {
        let mut config = fast_config();
        config.max_attempts = 2;
        let outbox = Outbox::new(db.store.clone(), config);
        let healthy = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let h = healthy.clone();
        let handlers = Handlers::new().on("send", move |_| {
            let h = h.clone();
            async move {
                if h.load(Ordering::SeqCst) {
                    Ok(())
                } else {
                    Err(JobError::retry("503 from remote"))
                }
            }
        });
        let id = outbox
            .enqueue_now(NewJob::new("send", serde_json::json!({})))
            .await
            .unwrap()
            .unwrap();
        let worker = Worker::new(outbox.clone(), handlers, "w1");
        let o = outbox.clone();
        for _ in 0..200 {
            worker.run_once().await.unwrap();
            if o.depth().await.unwrap().dead == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
        let dead = outbox.list(Some(JobState::Dead), 10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].id, id);
        assert_eq!(dead[0].attempts, 2);
        assert_eq!(dead[0].last_error.as_deref(), Some("503 from remote"));
        assert!(
            !worker.run_once().await.unwrap(),
            "a dead job is not claimed"
        );

        healthy.store(true, Ordering::SeqCst);
        assert_eq!(outbox.retry(Some(id)).await.unwrap(), 1);
        assert!(worker.run_once().await.unwrap());
        assert_eq!(
            outbox.list(Some(JobState::Done), 10).await.unwrap().len(),
            1
        );
        assert_eq!(
            outbox.retry(Some(id)).await.unwrap(),
            0,
            "a done job is not requeued"
        );
    }
);

store_test!(
    permanent_error_dead_letters_at_once,
    |db: TestDb| async move {
        let outbox = Outbox::new(db.store.clone(), fast_config());
        let handlers = Handlers::new().on("bad", |_| async {
            Err(JobError::Permanent(
                "400 Bad Request: chat not found".into(),
            ))
        });
        outbox
            .enqueue_now(NewJob::new("bad", serde_json::json!({})))
            .await
            .unwrap();
        let worker = Worker::new(outbox.clone(), handlers, "w1");
        assert!(worker.run_once().await.unwrap());
        let dead = outbox.list(Some(JobState::Dead), 10).await.unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].attempts, 1);
        assert!(outbox.drop_job(dead[0].id).await.unwrap());
        assert!(outbox.list(None, 10).await.unwrap().is_empty());
    }
);

store_test!(
    retry_after_from_handler_is_honoured,
    |db: TestDb| async move {
        let outbox = Outbox::new(db.store.clone(), fast_config());
        let handlers = Handlers::new().on("limited", |_| async {
            Err(JobError::Retry {
                after: Some(Duration::from_secs(30)),
                message: "429 Too Many Requests: retry after 30".into(),
            })
        });
        outbox
            .enqueue_now(NewJob::new("limited", serde_json::json!({})))
            .await
            .unwrap();
        let worker = Worker::new(outbox.clone(), handlers, "w1");
        assert!(worker.run_once().await.unwrap());
        assert!(
            !worker.run_once().await.unwrap(),
            "not due before retry_after"
        );
        let row = &outbox.list(None, 1).await.unwrap()[0];
        let wait = row.run_at - crate::store::now_ms();
        assert!(
            (28_000..=30_000).contains(&wait),
            "run_at is retry_after away, got {wait} ms"
        );
    }
);

store_test!(
    dedupe_key_enqueues_once_and_unknown_kind_waits,
    |db: TestDb| async move {
        let outbox = Outbox::new(db.store.clone(), fast_config());
        let first = outbox
            .enqueue_now(NewJob::new("x", serde_json::json!({})).dedupe("order:1:paid"))
            .await
            .unwrap();
        let second = outbox
            .enqueue_now(NewJob::new("x", serde_json::json!({})).dedupe("order:1:paid"))
            .await
            .unwrap();
        assert!(first.is_some());
        assert_eq!(second, None);
        // A worker that cannot handle the kind leaves the job, untouched, for one that can.
        let other = Handlers::new().on("y", |_| async { Ok(()) });
        let worker = Worker::new(outbox.clone(), other, "w1");
        assert!(!worker.run_once().await.unwrap());
        let row = &outbox.list(None, 10).await.unwrap()[0];
        assert_eq!((row.state.as_str(), row.attempts), ("pending", 0));
        let able = Worker::new(
            outbox.clone(),
            Handlers::new().on("x", |_| async { Ok(()) }),
            "w2",
        );
        assert!(able.run_once().await.unwrap());
        assert_eq!(
            outbox.list(Some(JobState::Done), 10).await.unwrap().len(),
            1
        );
    }
);

store_test!(
    enqueue_rolls_back_with_its_transaction,
    |db: TestDb| async move {
        let outbox = Outbox::new(db.store.clone(), fast_config());
        let mut tx = db.store.pool().begin().await.unwrap();
        outbox
            .enqueue(&mut tx, NewJob::new("x", serde_json::json!({})))
            .await
            .unwrap();
        tx.rollback().await.unwrap();
        assert!(outbox.list(None, 10).await.unwrap().is_empty());
    }
);

#[test]
fn backoff_grows_with_jitter_and_is_capped() {
    let config = OutboxConfig {
        backoff_base: Duration::from_secs(1),
        backoff_max: Duration::from_secs(60),
        ..fast_config()
    };
    let store_less = |attempt| {
        let full = Duration::from_secs(1)
            .saturating_mul(1u32 << (attempt - 1))
            .min(Duration::from_secs(60));
        (full / 2, full)
    };
    // Outbox::backoff needs no database; build one around a lazy pool-free path.
    for attempt in 1..=10i64 {
        let (lo, hi) = store_less(attempt as u32);
        for _ in 0..50 {
            let d = super::backoff_for(&config, attempt);
            assert!(
                d >= lo && d <= hi,
                "attempt {attempt}: {d:?} not in [{lo:?}, {hi:?}]"
            );
        }
    }
}
