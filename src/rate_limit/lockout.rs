//! Refusing an address that keeps sending wrong passwords (the 1C exchange's `checkauth`).
//!
//! After `after` failures in a row from one address it is refused for `base`; each further
//! lockout of the same address doubles that, up to `max`. A right password from the address
//! clears its record, and a record untouched for `max` is forgotten, so the real 1C, once its
//! password is fixed, works from its own address again; other addresses never affect it.
//! Records live in a bounded cache (per instance).

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::address_key;
use crate::config::Exchange1cConfig;

#[derive(Debug, Default)]
struct Record {
    failures: u32,
    lockouts: u32,
    locked_until: Option<Instant>,
    last_failure: Option<Instant>,
}

pub struct Lockout {
    after: u32,
    base: Duration,
    max: Duration,
    records: quick_cache::sync::Cache<u128, Arc<Mutex<Record>>>,
}

/// What a failure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Counted; `left` more before a lockout.
    Counted { left: u32 },
    /// The address is refused for this long.
    LockedOut(Duration),
}

impl Lockout {
    pub fn new(after: u32, base: Duration, max: Duration) -> Self {
        Self {
            after: after.max(1),
            base,
            max: max.max(base),
            records: quick_cache::sync::Cache::new(10_000),
        }
    }

    pub fn for_exchange(c: &Exchange1cConfig) -> Self {
        Self::new(c.lockout_after, c.lockout, c.lockout_max)
    }

    fn record(&self, ip: IpAddr) -> Arc<Mutex<Record>> {
        self.records
            .get_or_insert_with(&address_key(ip), || {
                Ok::<_, std::convert::Infallible>(Arc::default())
            })
            .unwrap_or_else(|never| match never {})
    }

    /// `Err(remaining)` while the address is locked out.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        let Some(record) = self.records.get(&address_key(ip)) else {
            return Ok(());
        };
        let r = record.lock().unwrap_or_else(|p| p.into_inner());
        match r.locked_until {
            Some(until) if until > now => Err(until - now),
            _ => Ok(()),
        }
    }

    pub fn failure(&self, ip: IpAddr, now: Instant) -> Failure {
        let record = self.record(ip);
        let mut r = record.lock().unwrap_or_else(|p| p.into_inner());
        if r.last_failure
            .is_some_and(|t| now.duration_since(t) > self.max)
        {
            *r = Record::default();
        }
        r.last_failure = Some(now);
        r.failures += 1;
        if r.failures < self.after {
            return Failure::Counted {
                left: self.after - r.failures,
            };
        }
        let factor = 1u32.checked_shl(r.lockouts).unwrap_or(u32::MAX);
        let lock = self.base.saturating_mul(factor).min(self.max);
        r.failures = 0;
        r.lockouts = r.lockouts.saturating_add(1);
        r.locked_until = Some(now + lock);
        Failure::LockedOut(lock)
    }

    pub fn success(&self, ip: IpAddr) {
        self.records.remove(&address_key(ip));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_and_clears() {
        let l = Lockout::new(3, Duration::from_secs(60), Duration::from_secs(600));
        let attacker: IpAddr = "198.51.100.7".parse().unwrap();
        let one_c: IpAddr = "203.0.113.10".parse().unwrap();
        let t0 = Instant::now();
        assert_eq!(l.failure(attacker, t0), Failure::Counted { left: 2 });
        assert_eq!(l.failure(attacker, t0), Failure::Counted { left: 1 });
        assert_eq!(
            l.failure(attacker, t0),
            Failure::LockedOut(Duration::from_secs(60))
        );
        assert!(l.check(attacker, t0 + Duration::from_secs(59)).is_err());
        assert!(
            l.check(one_c, t0).is_ok(),
            "other addresses are not affected"
        );
        let t1 = t0 + Duration::from_secs(61);
        assert!(l.check(attacker, t1).is_ok());
        l.failure(attacker, t1);
        l.failure(attacker, t1);
        assert_eq!(
            l.failure(attacker, t1),
            Failure::LockedOut(Duration::from_secs(120)),
            "the second lockout is twice as long"
        );
        let t2 = t1 + Duration::from_secs(121);
        for _ in 0..2 {
            l.failure(attacker, t2);
        }
        assert_eq!(
            l.failure(attacker, t2),
            Failure::LockedOut(Duration::from_secs(240))
        );
        let t3 = t2 + Duration::from_secs(241);
        for _ in 0..2 {
            l.failure(attacker, t3);
        }
        assert_eq!(
            l.failure(attacker, t3),
            Failure::LockedOut(Duration::from_secs(480))
        );
        let t4 = t3 + Duration::from_secs(481);
        for _ in 0..2 {
            l.failure(attacker, t4);
        }
        assert_eq!(
            l.failure(attacker, t4),
            Failure::LockedOut(Duration::from_secs(600)),
            "capped at the maximum"
        );
        // A right password once the lock is over: a clean record.
        l.success(attacker);
        assert!(l.check(attacker, t4).is_ok());
        assert_eq!(l.failure(attacker, t4), Failure::Counted { left: 2 });
    }

    #[test]
    fn an_old_record_is_forgotten() {
        let l = Lockout::new(2, Duration::from_secs(10), Duration::from_secs(100));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        l.failure(ip, t0);
        assert_eq!(
            l.failure(ip, t0 + Duration::from_secs(101)),
            Failure::Counted { left: 1 },
            "a failure long ago does not count"
        );
    }
}
