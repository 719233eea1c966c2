//! Guides: how to fit the crate into an app, one topic per page, with code that compiles.
