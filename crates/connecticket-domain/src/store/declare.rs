//! One declaration per storage operation.
//!
//! A role is declared once with [`store_role!`]: each operation's name,
//! arguments and answer, how it runs (`read`, `statement`, `write`,
//! `stream`, or `custom`) and, for all but `custom`, the statement
//! function in `connecticket-store`'s `ops` module that does it. From that
//! one line come both the method of the role's trait, which the use cases
//! call, and its implementation over any engine, which
//! `connecticket-store` asks for with the macro the declaration names
//! (`implement_ticket_store!()`, …). Adding an operation is that line and
//! its statement; the engines supply only connections and dialect.
//!
//! How an operation runs:
//! - `read`: a read-only transaction (one snapshot);
//! - `statement`: a read of exactly one statement (no transaction needed);
//! - `write`: a write transaction, acknowledged once durable;
//! - `stream`: a read transaction whose rows stream in chunks;
//! - `custom`, `custom_stream`, `plain`: written by hand in
//!   `connecticket-store`'s `custom` module (keyset lists, idempotent
//!   writes, the audit queue, the engine's own state).

/// Declares a storage role: its trait here, and the macro that
/// implements it for `connecticket_store::SqlStore`.
#[macro_export]
macro_rules! store_role {
    (
        $(#[$role_meta:meta])*
        pub trait $role:ident implemented by $implement:ident {
            $(
                $(#[$meta:meta])*
                $kind:ident $name:ident ( $($arg:ident : $ty:ty),* $(,)? ) -> $ret:ty
                    $(= $($op:ident)::+)? ;
            )*
        }
    ) => {
        $(#[$role_meta])*
        pub trait $role: Send + Sync + 'static {
            $(
                $crate::__store_signature! {
                    $(#[$meta])* $kind $name ($($arg: $ty),*) -> $ret
                }
            )*
        }

        /// Implements the role over any engine, operation by operation
        /// (for `connecticket-store` only).
        #[macro_export]
        #[doc(hidden)]
        macro_rules! $implement {
            () => {
                impl<E: ::connecticket_store::Engine> $crate::store::$role
                    for ::connecticket_store::SqlStore<E>
                {
                    $(
                        $crate::__store_method! {
                            $kind $name ($($arg: $ty),*) -> $ret $(= $($op)::+)?
                        }
                    )*
                }
            };
        }
    };
}

/// A role method's signature, by how it runs.
#[macro_export]
#[doc(hidden)]
macro_rules! __store_signature {
    ($(#[$meta:meta])* stream $name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty) => {
        $(#[$meta])*
        fn $name(&self, $($arg: $ty),*) -> $crate::store::RowStream<$ret>;
    };
    ($(#[$meta:meta])* custom_stream $name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty) => {
        $(#[$meta])*
        fn $name(&self, $($arg: $ty),*) -> $crate::store::RowStream<$ret>;
    };
    ($(#[$meta:meta])* plain $name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty) => {
        $(#[$meta])*
        fn $name(&self, $($arg: $ty),*) -> $ret;
    };
    ($(#[$meta:meta])* $kind:ident $name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty) => {
        $(#[$meta])*
        fn $name(&self, $($arg: $ty),*) -> $crate::store::StoreFuture<'_, $ret>;
    };
}

/// A role method's implementation over an engine, by how it runs.
#[macro_export]
#[doc(hidden)]
macro_rules! __store_method {
    (read $name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty = $($op:ident)::+) => {
        fn $name(&self, $($arg: $ty),*) -> $crate::store::StoreFuture<'_, $ret> {
            Box::pin(::connecticket_store::Engine::read(
                self.engine(),
                move |tx| Box::pin(::connecticket_store::ops::$($op)::+(tx, $($arg),*)),
            ))
        }
    };
    (statement $name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty = $($op:ident)::+) => {
        fn $name(&self, $($arg: $ty),*) -> $crate::store::StoreFuture<'_, $ret> {
            Box::pin(::connecticket_store::Engine::read_statement(
                self.engine(),
                move |tx| Box::pin(::connecticket_store::ops::$($op)::+(tx, $($arg),*)),
            ))
        }
    };
    (write $name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty = $($op:ident)::+) => {
        fn $name(&self, $($arg: $ty),*) -> $crate::store::StoreFuture<'_, $ret> {
            Box::pin(::connecticket_store::Engine::write(
                self.engine(),
                move |tx| Box::pin(::connecticket_store::ops::$($op)::+(tx, $($arg),*)),
            ))
        }
    };
    (stream $name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty = $($op:ident)::+) => {
        fn $name(&self, $($arg: $ty),*) -> $crate::store::RowStream<$ret> {
            ::connecticket_store::Engine::read_stream(
                self.engine(),
                move |tx, out| Box::pin(::connecticket_store::ops::$($op)::+(tx, out, $($arg),*)),
            )
        }
    };
    (custom $name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty) => {
        fn $name(&self, $($arg: $ty),*) -> $crate::store::StoreFuture<'_, $ret> {
            Box::pin(::connecticket_store::custom::$name(self, $($arg),*))
        }
    };
    (custom_stream $name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty) => {
        fn $name(&self, $($arg: $ty),*) -> $crate::store::RowStream<$ret> {
            ::connecticket_store::custom::$name(self, $($arg),*)
        }
    };
    (plain $name:ident ($($arg:ident : $ty:ty),*) -> $ret:ty) => {
        fn $name(&self, $($arg: $ty),*) -> $ret {
            ::connecticket_store::custom::$name(self, $($arg),*)
        }
    };
}
