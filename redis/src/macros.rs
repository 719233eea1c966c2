//! Crate-private macros: logging through clerk-webhooks' switch (its `tracing` feature, which this
//! package's turns on), so a call site is written once whatever the features.

#[allow(unused_macros)]
macro_rules! error {
    ($($arguments:tt)+) => { clerk_webhooks::__log_event!(error, $($arguments)+) };
}

#[allow(unused_macros)]
macro_rules! warn {
    ($($arguments:tt)+) => { clerk_webhooks::__log_event!(warn, $($arguments)+) };
}

#[allow(unused_macros)]
macro_rules! info {
    ($($arguments:tt)+) => { clerk_webhooks::__log_event!(info, $($arguments)+) };
}

#[allow(unused_macros)]
macro_rules! debug {
    ($($arguments:tt)+) => { clerk_webhooks::__log_event!(debug, $($arguments)+) };
}
