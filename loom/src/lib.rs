//! Loom models of toro-sync live in `tests/`; run them with `RUSTFLAGS="--cfg loom" cargo test -p toro-sync-loom --release`.
