//! Small helpers over [`Executor`]: typed fetches, and statements built
//! from a record's columns.

use connecticket_domain::StoreError;

use crate::engine::Executor;
use crate::error::{SqlError, SqlErrorKind};
use crate::value::{Row, Value};

pub(crate) type Result<T> = std::result::Result<T, StoreError>;

/// Every row, mapped.
pub(crate) async fn fetch_all<T: Send>(
    tx: &mut dyn Executor,
    sql: &str,
    args: &[Value<'_>],
    map: impl Fn(&dyn Row) -> Result<T> + Send + Sync,
) -> Result<Vec<T>> {
    let mut rows = Vec::new();
    tx.query(sql, args, &mut |row| {
        rows.push(map(row)?);
        Ok(())
    })
    .await?;
    Ok(rows)
}

/// The first row, mapped, if there is one.
pub(crate) async fn fetch_optional<T: Send>(
    tx: &mut dyn Executor,
    sql: &str,
    args: &[Value<'_>],
    map: impl Fn(&dyn Row) -> Result<T> + Send + Sync,
) -> Result<Option<T>> {
    let mut found = None;
    tx.query(sql, args, &mut |row| {
        if found.is_none() {
            found = Some(map(row)?);
        }
        Ok(())
    })
    .await?;
    Ok(found)
}

/// The one row a query must return.
pub(crate) async fn fetch_one<T: Send>(
    tx: &mut dyn Executor,
    sql: &str,
    args: &[Value<'_>],
    map: impl Fn(&dyn Row) -> Result<T> + Send + Sync,
) -> Result<T> {
    fetch_optional(tx, sql, args, map).await?.ok_or_else(|| {
        StoreError::Corrupt("a query that always returns a row returned none".to_owned())
    })
}

pub(crate) async fn exists(tx: &mut dyn Executor, sql: &str, args: &[Value<'_>]) -> Result<bool> {
    Ok(fetch_optional(tx, sql, args, |_| Ok(())).await?.is_some())
}

pub(crate) async fn execute(tx: &mut dyn Executor, sql: &str, args: &[Value<'_>]) -> Result<u64> {
    tx.execute(sql, args).await.map_err(SqlError::into_store)
}

/// A record's columns with their values, in one list, so the names and the
/// values of an insert can never drift apart.
pub(crate) struct Columns<'a> {
    pub(crate) names: Vec<&'static str>,
    pub(crate) values: Vec<Value<'a>>,
}

impl<'a> Columns<'a> {
    pub(crate) fn new() -> Self {
        Columns {
            names: Vec::new(),
            values: Vec::new(),
        }
    }

    pub(crate) fn with(mut self, name: &'static str, value: impl Into<Value<'a>>) -> Self {
        self.names.push(name);
        self.values.push(value.into());
        self
    }

    /// Leaves a column out, so the database assigns it (a new row's id).
    pub(crate) fn without(mut self, name: &str) -> Self {
        if let Some(at) = self.names.iter().position(|n| *n == name) {
            self.names.remove(at);
            self.values.remove(at);
        }
        self
    }

    fn insert_sql(&self, table: &str, returning: Option<&str>) -> String {
        let mut sql = insert_head(table, &self.names);
        push_tuple(&mut sql, 1, self.names.len());
        if let Some(column) = returning {
            sql.push_str(" RETURNING ");
            sql.push_str(column);
        }
        sql
    }
}

/// `INSERT INTO table (a, b, …) VALUES `.
fn insert_head(table: &str, names: &[&str]) -> String {
    let mut sql = String::with_capacity(64 + 16 * names.len());
    sql.push_str("INSERT INTO ");
    sql.push_str(table);
    sql.push_str(" (");
    sql.push_str(&names.join(", "));
    sql.push_str(") VALUES ");
    sql
}

/// `($first, …)` for `width` parameters.
fn push_tuple(sql: &mut String, first: usize, width: usize) {
    sql.push('(');
    push_placeholders(sql, first, width);
    sql.push(')');
}

/// `$first, $first+1, …` for `count` parameters, written without
/// `format!`: a write builds its statements' text each time, one
/// placeholder per column.
fn push_placeholders(sql: &mut String, first: usize, count: usize) {
    for n in first..first + count {
        if n > first {
            sql.push_str(", ");
        }
        sql.push('$');
        push_number(sql, n);
    }
}

fn push_number(sql: &mut String, n: usize) {
    if n >= 10 {
        push_number(sql, n / 10);
    }
    sql.push(char::from(b'0' + (n % 10) as u8));
}

/// Inserts rows that name the same columns, as few statements as it
/// takes: groups of a power of two rows (at most `MAX_ROWS_PER_INSERT`),
/// so that a handful of distinct statements serve every count and stay
/// prepared. On PostgreSQL each statement is a round trip.
pub(crate) async fn insert_rows(
    tx: &mut dyn Executor,
    table: &str,
    mut rows: Vec<Columns<'_>>,
) -> Result<()> {
    while !rows.is_empty() {
        let rest = rows.split_off(group_size(rows.len()));
        let group = RowGroup::of(table, rows)?;
        execute(tx, &group.insert_sql(table, 1), &group.values).await?;
        rows = rest;
    }
    Ok(())
}

/// How many of `count` rows the next statement of a grouped insert takes.
pub(crate) fn group_size(count: usize) -> usize {
    let mut group = 1;
    while group * 2 <= MAX_ROWS_PER_INSERT && group * 2 <= count {
        group *= 2;
    }
    group.min(count)
}

/// Rows naming the same columns, their values in one list for one
/// statement.
pub(crate) struct RowGroup<'a> {
    names: Vec<&'static str>,
    rows: usize,
    pub(crate) values: Vec<Value<'a>>,
}

impl<'a> RowGroup<'a> {
    pub(crate) fn of(table: &str, rows: Vec<Columns<'a>>) -> Result<Self> {
        let count = rows.len();
        let mut rows = rows.into_iter();
        let Some(first) = rows.next() else {
            return Err(StoreError::Corrupt(format!(
                "an insert into {table} without rows"
            )));
        };
        let mut values = first.values;
        for row in rows {
            if row.names != first.names {
                return Err(StoreError::Corrupt(format!(
                    "rows inserted together into {table} name different columns"
                )));
            }
            values.extend(row.values);
        }
        Ok(RowGroup {
            names: first.names,
            rows: count,
            values,
        })
    }

    /// `INSERT INTO table (…) VALUES (…), (…)`, numbering its placeholders
    /// from `first` (a statement may bind others before them).
    pub(crate) fn insert_sql(&self, table: &str, first: usize) -> String {
        let mut sql = insert_head(table, &self.names);
        self.push_tuples(&mut sql, first);
        sql
    }

    /// The same insert, of the rows only if `condition` holds when the
    /// statement runs: `INSERT INTO table (…) SELECT * FROM (VALUES (…))
    /// AS new_rows WHERE condition`.
    pub(crate) fn insert_where_sql(&self, table: &str, first: usize, condition: &str) -> String {
        let mut sql = insert_head(table, &self.names);
        sql.truncate(sql.len() - "VALUES ".len());
        sql.push_str("SELECT * FROM (VALUES ");
        self.push_tuples(&mut sql, first);
        sql.push_str(") AS new_rows WHERE ");
        sql.push_str(condition);
        sql
    }

    fn push_tuples(&self, sql: &mut String, first: usize) {
        let width = self.names.len();
        for row in 0..self.rows {
            if row > 0 {
                sql.push_str(", ");
            }
            push_tuple(sql, first + row * width, width);
        }
    }
}

/// The most rows one statement of `insert_rows` inserts.
const MAX_ROWS_PER_INSERT: usize = 32;

/// Inserts a row.
pub(crate) async fn insert(tx: &mut dyn Executor, table: &str, columns: Columns<'_>) -> Result<()> {
    let sql = columns.insert_sql(table, None);
    execute(tx, &sql, &columns.values).await.map(|_| ())
}

/// Inserts a row and answers the id the database gave it.
pub(crate) async fn insert_returning_id(
    tx: &mut dyn Executor,
    table: &str,
    columns: Columns<'_>,
) -> Result<i64> {
    let sql = columns.insert_sql(table, Some("id"));
    fetch_one(tx, &sql, &columns.values, |row| row.get("id")).await
}

/// Inserts a row, turning a taken unique key into `taken`.
pub(crate) async fn insert_unique(
    tx: &mut dyn Executor,
    table: &str,
    columns: Columns<'_>,
    taken: StoreError,
) -> Result<i64> {
    let sql = columns.insert_sql(table, Some("id"));
    let mut id = None;
    let outcome = tx
        .query(&sql, &columns.values, &mut |row| {
            id = Some(row.get("id")?);
            Ok(())
        })
        .await;
    match outcome {
        Ok(()) => id.ok_or_else(|| StoreError::Corrupt("an insert returned no id".to_owned())),
        Err(error) if is_unique_violation(&error) => Err(taken),
        Err(error) => Err(error),
    }
}

/// Whether a store error is a driver's report of a taken unique key.
pub(crate) fn is_unique_violation(error: &StoreError) -> bool {
    let StoreError::Backend { source, .. } = error else {
        return false;
    };
    source
        .downcast_ref::<SqlError>()
        .is_some_and(|sql| sql.kind == SqlErrorKind::UniqueViolation)
}

/// `$first, $first+1, …` for `count` parameters.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    let mut sql = String::with_capacity(5 * count);
    push_placeholders(&mut sql, first, count);
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inserts_name_their_columns_in_value_order() {
        let columns = Columns::new()
            .with("id", 1i64)
            .with("name", "x")
            .without("id");
        assert_eq!(
            columns.insert_sql("providers", Some("id")),
            "INSERT INTO providers (name) VALUES ($1) RETURNING id"
        );
        assert_eq!(columns.values.len(), 1);
        assert_eq!(placeholders(3, 2), "$3, $4");
        assert_eq!(placeholders(9, 3), "$9, $10, $11");
        assert_eq!(placeholders(1, 0), "");
    }

    #[test]
    fn rows_inserted_together_number_their_placeholders_across_tuples() {
        let row = |ticket: i64| Columns::new().with("ticket_id", ticket).with("status", "x");
        let group = RowGroup::of("ticket_categories", vec![row(1), row(2)]).expect("one shape");
        assert_eq!(
            group.insert_sql("ticket_categories", 5),
            "INSERT INTO ticket_categories (ticket_id, status) VALUES ($5, $6), ($7, $8)"
        );
        assert_eq!(group.values.len(), 4);
        assert_eq!(
            group.insert_where_sql("ticket_categories", 3, "EXISTS (SELECT 1 FROM moved)"),
            "INSERT INTO ticket_categories (ticket_id, status) SELECT * FROM \
             (VALUES ($3, $4), ($5, $6)) AS new_rows WHERE EXISTS (SELECT 1 FROM moved)"
        );
        let mixed = vec![row(1), Columns::new().with("ticket_id", 2i64)];
        assert!(RowGroup::of("ticket_categories", mixed).is_err());
        assert_eq!(
            [1, 2, 3, 5, 40].map(group_size),
            [1, 2, 2, 4, 32],
            "powers of two, at most MAX_ROWS_PER_INSERT"
        );
    }
}
