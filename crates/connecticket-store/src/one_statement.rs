//! A write's changes gathered into one PostgreSQL statement: each insert,
//! update or delete becomes a data-modifying `WITH` of one statement, so
//! the whole write (its rows, its outbox rows, its idempotency key and its
//! audit entry) costs the lane one round trip. PostgreSQL runs every such
//! `WITH` exactly once and to completion, whether or not the statement's
//! result reads it, and checks foreign keys when the statement ends, so
//! the parts may refer to each other's rows as long as their ids are known
//! beforehand (the write takes them from the sequences when it reads).
//!
//! SQLite has no data-modifying `WITH`; its writes send their statements
//! one after another (in-process, each costs a function call, not a round
//! trip).

use crate::engine::Executor;
use crate::sql::{fetch_one, Columns, Result, RowGroup};
use crate::value::Value;

#[derive(Default)]
pub(crate) struct OneStatement {
    /// `name AS (…), name AS (…)`.
    with: String,
    args: Vec<Value<'static>>,
    parts: usize,
    /// Parts whose changed rows the statement answers, in order.
    counted: Vec<&'static str>,
}

impl OneStatement {
    pub(crate) fn new() -> Self {
        OneStatement::default()
    }

    /// Inserts `rows` (rows of one shape) into `table`; nothing if none.
    pub(crate) fn insert(&mut self, table: &str, rows: Vec<Columns<'static>>) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let group = RowGroup::of(table, rows)?;
        let sql = group.insert_sql(table, self.args.len() + 1);
        self.args.extend(group.values);
        self.push_part(None, &sql);
        Ok(())
    }

    /// An `UPDATE` or `DELETE` whose placeholders count from `$1`.
    pub(crate) fn change(&mut self, sql: &str, args: Vec<Value<'static>>) {
        let sql = shift_placeholders(sql, self.args.len());
        self.args.extend(args);
        self.push_part(None, &sql);
    }

    /// A change whose `RETURNING` rows the statement counts: [`run`]
    /// answers the counts of such parts in the order they were added.
    pub(crate) fn counted(&mut self, name: &'static str, sql: &str, args: Vec<Value<'static>>) {
        let sql = shift_placeholders(sql, self.args.len());
        self.args.extend(args);
        self.push_part(Some(name), &sql);
        self.counted.push(name);
    }

    fn push_part(&mut self, name: Option<&str>, sql: &str) {
        if self.parts > 0 {
            self.with.push_str(", ");
        }
        self.parts += 1;
        match name {
            Some(name) => self.with.push_str(name),
            None => {
                self.with.push('w');
                self.with.push_str(&self.parts.to_string());
            }
        }
        self.with.push_str(" AS (");
        self.with.push_str(sql);
        self.with.push(')');
    }

    /// The statement's text and arguments.
    pub(crate) fn sql(&self) -> String {
        let answer = if self.counted.is_empty() {
            "SELECT 1 AS done".to_owned()
        } else {
            let counts: Vec<String> = self
                .counted
                .iter()
                .map(|name| format!("(SELECT COUNT(*) FROM {name}) AS {name}"))
                .collect();
            format!("SELECT {}", counts.join(", "))
        };
        if self.parts == 0 {
            answer
        } else {
            format!("WITH {} {answer}", self.with)
        }
    }

    /// Sends the statement; answers the counted parts' row counts.
    pub(crate) async fn run(self, tx: &mut dyn Executor) -> Result<Vec<i64>> {
        let sql = self.sql();
        let counted = self.counted;
        fetch_one(tx, &sql, &self.args, |row| {
            counted.iter().map(|name| row.get::<i64>(name)).collect()
        })
        .await
    }
}

/// `sql` with each `$n` renumbered `$(n + by)`, so that a statement written
/// on its own can join others' placeholders.
fn shift_placeholders(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_owned();
    }
    let mut shifted = String::with_capacity(sql.len() + 8);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        shifted.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) => shifted.push_str(&(n + by).to_string()),
            Err(_) => shifted.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    shifted.push_str(rest);
    shifted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_number_their_placeholders_after_the_parts_before_them() {
        let mut statement = OneStatement::new();
        let rating = |category: i64| {
            Columns::new()
                .with("ticket_id", 7i64)
                .with("category_id", category)
        };
        statement
            .insert("ticket_categories", vec![rating(1), rating(2)])
            .expect("one shape");
        statement
            .insert("comments", Vec::new())
            .expect("no rows, no part");
        statement.change(
            "UPDATE tickets SET version = version + 1 WHERE id = $1 AND provider_id = $2",
            vec![7i64.into(), 1i64.into()],
        );
        statement.counted(
            "moved",
            "UPDATE audit_chains SET last_seq = $1 WHERE id = $2 RETURNING id",
            vec![5i64.into(), 3i64.into()],
        );
        assert_eq!(
            statement.sql(),
            "WITH w1 AS (INSERT INTO ticket_categories (ticket_id, category_id) VALUES ($1, $2), ($3, $4)), \
             w2 AS (UPDATE tickets SET version = version + 1 WHERE id = $5 AND provider_id = $6), \
             moved AS (UPDATE audit_chains SET last_seq = $7 WHERE id = $8 RETURNING id) \
             SELECT (SELECT COUNT(*) FROM moved) AS moved"
        );
        assert_eq!(statement.args.len(), 8);
        assert_eq!(statement.args[6], Value::Int(Some(5)));
    }

    #[test]
    fn a_statement_without_parts_still_answers() {
        assert_eq!(OneStatement::new().sql(), "SELECT 1 AS done");
        assert_eq!(
            shift_placeholders("a = $1 AND b = $12", 3),
            "a = $4 AND b = $15"
        );
        assert_eq!(shift_placeholders("x = $", 3), "x = $");
    }
}
