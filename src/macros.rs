//! Crate-private macros.

/// Log through `tracing` (feature `tracing`), or nothing, as axum's `macros.rs` does: a call site
/// is written once, whatever the features. Without `tracing` the arguments are not evaluated, so a
/// function that only logs its parameters allows them to be unused in that build.
///
/// Exported (hidden) for the backend packages, whose logs follow this crate's `tracing` feature.
#[cfg(feature = "tracing")]
#[doc(hidden)]
#[macro_export]
macro_rules! __log_event {
    ($level:ident, $($arguments:tt)+) => {
        $crate::__private::tracing::$level!($($arguments)+)
    };
}

#[cfg(not(feature = "tracing"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __log_event {
    ($level:ident, $($arguments:tt)+) => {
        ()
    };
}

/// The four levels, defined once for the workspace: this crate's modules and the backend packages
/// import them from `__private::log` (`use crate::__private::log::{error, warn};`), as an app
/// imports tracing's.
#[doc(hidden)]
#[macro_export]
macro_rules! __error {
    ($($arguments:tt)+) => { $crate::__log_event!(error, $($arguments)+) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __warn {
    ($($arguments:tt)+) => { $crate::__log_event!(warn, $($arguments)+) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __info {
    ($($arguments:tt)+) => { $crate::__log_event!(info, $($arguments)+) };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __debug {
    ($($arguments:tt)+) => { $crate::__log_event!(debug, $($arguments)+) };
}

/// `get_ref`, `get_mut` and `into_inner` for a middleware service whose inner service is the field
/// `inner`, as tower-http writes them.
macro_rules! define_inner_service_accessors {
    () => {
        /// The inner service.
        pub fn get_ref(&self) -> &S {
            &self.inner
        }

        /// The inner service, mutably.
        pub fn get_mut(&mut self) -> &mut S {
            &mut self.inner
        }

        /// Unwraps the inner service.
        pub fn into_inner(self) -> S {
            self.inner
        }
    };
}

/// The answer of a rejection that always answers with one status and one code, as axum-core's
/// `__define_rejection!` writes it: `status()`, `code()` and `body_text()` (the JSON body
/// `{"error": CODE, "message": Display}`), crate-private `retry_after()` (the `Retry-After` it
/// asks for, if any) and `response()` (the whole answer), and, with the `axum` feature,
/// `IntoResponse`, which logs the rejection where it becomes a response: through the composite
/// rejection it belongs to (`into_response = via(Composite)`), through its own `log` method
/// (`into_response = log`), or as a refusal at `warn` (the default).
macro_rules! define_rejection {
    (@retry_after $self:ident) => {
        None
    };
    (@retry_after $self:ident, $this:ident => $retry_after:expr) => {{
        let $this = $self;
        Some($retry_after)
    }};
    (@into_response $self:ident) => {{
        $crate::__warn!(
            code = $self.code(),
            status = $self.status().as_u16(),
            detail = %$self,
            "clerk webhook rejected"
        );
        $self.response().map(axum_core::body::Body::from)
    }};
    (@into_response $self:ident, log) => {{
        $self.log();
        $self.response().map(axum_core::body::Body::from)
    }};
    (@into_response $self:ident, via($composite:ty)) => {
        axum_core::response::IntoResponse::into_response(<$composite>::from($self))
    };
    (
        $rejection:ty,
        status = $status:ident,
        code = $code:expr
        $(, retry_after($this:ident) = $retry_after:expr)?
        $(, into_response = $respond:ident $(($composite:ty))?)?
        $(,)?
    ) => {
        impl $rejection {
            /// The HTTP status of the answer.
            pub fn status(&self) -> http::StatusCode {
                http::StatusCode::$status
            }

            /// The stable machine-readable code (see the [table](crate#error-codes)).
            pub fn code(&self) -> &'static str {
                $code
            }

            /// The JSON body of the answer: `{"error": CODE, "message": TEXT}`.
            pub fn body_text(&self) -> String {
                crate::response::error_json(self.code(), &self.to_string())
            }

            /// How long the sender is asked to wait before it tries again (`Retry-After`), where
            /// waiting helps.
            #[allow(dead_code)]
            pub(crate) fn retry_after(&self) -> Option<std::time::Duration> {
                define_rejection!(@retry_after self $(, $this => $retry_after)?)
            }

            /// The answer: status, `content-type: application/json`, `Retry-After` where
            /// waiting helps, and the JSON body.
            #[allow(dead_code)]
            pub(crate) fn response(&self) -> http::Response<String> {
                crate::response::rejection_response(
                    self.status(),
                    self.retry_after(),
                    self.body_text(),
                )
            }
        }

        #[cfg(feature = "axum")]
        impl axum_core::response::IntoResponse for $rejection {
            fn into_response(self) -> axum_core::response::Response {
                define_rejection!(@into_response self $(, $respond $(($composite))?)?)
            }
        }
    };
}

/// A rejection that is one of several, as axum-core's `__composite_rejection!` writes it: the
/// enum (each variant converts from its rejection), and `status()`, `code()`, `body_text()` and
/// crate-private `retry_after()` delegated to the variant's rejection.
macro_rules! composite_rejection {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$variant_meta:meta])*
                $variant:ident($inner:ty),
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
        #[non_exhaustive]
        pub enum $name {
            $(
                $(#[$variant_meta])*
                #[error(transparent)]
                $variant(#[from] $inner),
            )+
        }

        impl $name {
            /// The HTTP status of the answer.
            pub fn status(&self) -> http::StatusCode {
                match self {
                    $(Self::$variant(inner) => inner.status(),)+
                }
            }

            /// The stable machine-readable code (see the [table](crate#error-codes)).
            pub fn code(&self) -> &'static str {
                match self {
                    $(Self::$variant(inner) => inner.code(),)+
                }
            }

            /// The JSON body of the answer: `{"error": CODE, "message": TEXT}`.
            pub fn body_text(&self) -> String {
                match self {
                    $(Self::$variant(inner) => inner.body_text(),)+
                }
            }

            /// How long the sender is asked to wait before it tries again, where waiting helps.
            pub(crate) fn retry_after(&self) -> Option<std::time::Duration> {
                match self {
                    $(Self::$variant(inner) => inner.retry_after(),)+
                }
            }
        }
    };
}
