//! Tickets as staff and partner applications work them: the lists and a
//! ticket's detail (`reads`), and new tickets, comments, files and status
//! changes (`writes`), each one store transaction with its audit entry.

mod circle;
mod reads;
mod telling;
mod writes;

pub use circle::TicketCircle;
pub use telling::{Considered, Telling, TellingPerson};
