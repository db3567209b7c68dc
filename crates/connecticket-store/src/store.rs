//! The storage interface, implemented once over any [`Engine`].

use std::sync::Arc;

use crate::engine::Engine;

/// Connecticket's store on one engine.
pub struct SqlStore<E: Engine> {
    engine: Arc<E>,
}

impl<E: Engine> SqlStore<E> {
    pub fn new(engine: E) -> Self {
        SqlStore {
            engine: Arc::new(engine),
        }
    }

    pub fn engine(&self) -> &E {
        &self.engine
    }

    pub(crate) fn shared_engine(&self) -> Arc<E> {
        Arc::clone(&self.engine)
    }
}

impl<E: Engine> std::fmt::Debug for SqlStore<E> {
    // Engines hold paths and URLs that may carry passwords: none is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SqlStore<{:?}>", self.engine.dialect())
    }
}
