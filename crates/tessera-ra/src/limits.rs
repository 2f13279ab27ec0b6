//! Rate limits per client address, as token buckets (they refill continuously: no
//! calendar window to straddle). Kept in memory per RA instance: the guarantees that hold
//! across instances (five tries per request, the wait after wrong CMP MACs) live in the
//! database ([`crate::store`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

pub struct Limiter {
    capacity: f64,
    per_second: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

/// Buckets kept before the full ones (idle addresses) are forgotten.
const KEPT: usize = 10_000;

impl Limiter {
    /// `capacity` at once, refilled by `per_minute` a minute.
    pub fn new(capacity: u32, per_minute: u32) -> Limiter {
        Limiter { capacity: capacity as f64, per_second: per_minute as f64 / 60.0, buckets: Default::default() }
    }

    fn with<R>(&self, ip: IpAddr, f: impl FnOnce(&mut f64) -> R) -> R {
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() > KEPT {
            let (capacity, rate) = (self.capacity, self.per_second);
            buckets.retain(|_, (tokens, at)| *tokens + now.duration_since(*at).as_secs_f64() * rate < capacity);
        }
        let (tokens, at) = buckets.entry(ip).or_insert((self.capacity, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.per_second).min(self.capacity);
        *at = now;
        f(tokens)
    }

    /// Seconds until a token is back (at least 1).
    fn wait(&self, tokens: f64) -> u64 {
        (((1.0 - tokens) / self.per_second).ceil() as u64).max(1)
    }

    /// Take a token: Err(seconds to wait) when there is none.
    pub fn take(&self, ip: IpAddr) -> Result<(), u64> {
        self.with(ip, |tokens| {
            if *tokens >= 1.0 {
                *tokens -= 1.0;
                Ok(())
            } else {
                Err(self.wait(*tokens))
            }
        })
    }

    /// Give back a token taken for a try that turned out right.
    pub fn give_back(&self, ip: IpAddr) {
        self.with(ip, |tokens| *tokens = (*tokens + 1.0).min(self.capacity));
    }

    /// Whether a token is there, without taking it.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        self.with(ip, |tokens| if *tokens >= 1.0 { Ok(()) } else { Err(self.wait(*tokens)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_its_capacity_then_refills_continuously() {
        let limiter = Limiter::new(3, 60 * 20);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        assert!((0..3).all(|_| limiter.take(ip).is_ok()));
        assert_eq!(limiter.take(ip), Err(1));
        assert!(limiter.take("192.0.2.2".parse().unwrap()).is_ok(), "per address");
        std::thread::sleep(std::time::Duration::from_millis(60));
        assert!(limiter.check(ip).is_ok(), "20 a second: one back after 50 ms");
        assert!(limiter.take(ip).is_ok());
        assert!(limiter.take(ip).is_err());
        limiter.give_back(ip);
        assert!(limiter.take(ip).is_ok(), "given back");
    }
}
