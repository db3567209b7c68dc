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

    /// The same columns, owning their values.
    pub(crate) fn into_owned(self) -> Columns<'static> {
        Columns {
            names: self.names,
            values: self.values.into_iter().map(Value::into_owned).collect(),
        }
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

    /// An insert of rows that arrive as one JSON parameter, `$param` (see
    /// [`RowGroup::json`]), and only if `condition` holds when the
    /// statement runs (PostgreSQL). Its text does not depend on how many
    /// rows there are, so one prepared statement serves every count.
    pub(crate) fn insert_json_where_sql(
        &self,
        table: &str,
        param: usize,
        condition: &str,
    ) -> Result<String> {
        let names = self.names.join(", ");
        let mut sql = format!(
            "INSERT INTO {table} ({names}) SELECT {names} FROM json_to_recordset(CAST(${param} AS JSON)) AS new_rows ("
        );
        for (n, (name, value)) in self.names.iter().zip(&self.values).enumerate() {
            if n > 0 {
                sql.push_str(", ");
            }
            sql.push_str(name);
            sql.push(' ');
            sql.push_str(match value {
                Value::Int(_) => "BIGINT",
                Value::Text(_) => "TEXT",
                Value::Bool(_) => "BOOLEAN",
                Value::Blob(_) => return Err(blob_in_json(table)),
            });
        }
        sql.push_str(") WHERE ");
        sql.push_str(condition);
        Ok(sql)
    }

    /// The rows as a JSON array of objects keyed by column, for
    /// [`RowGroup::insert_json_where_sql`].
    pub(crate) fn json(&self, table: &str) -> Result<String> {
        let width = self.names.len();
        let rows = self
            .values
            .chunks(width)
            .map(|row| {
                self.names
                    .iter()
                    .zip(row)
                    .map(|(name, value)| {
                        let value = match value {
                            Value::Int(v) => serde_json::Value::from(*v),
                            Value::Text(v) => serde_json::Value::from(v.as_deref()),
                            Value::Bool(v) => serde_json::Value::from(*v),
                            Value::Blob(_) => return Err(blob_in_json(table)),
                        };
                        Ok(((*name).to_owned(), value))
                    })
                    .collect::<Result<serde_json::Map<_, _>>>()
            })
            .collect::<Result<Vec<_>>>()?;
        serde_json::to_string(&rows)
            .map_err(|error| StoreError::Corrupt(format!("rows for {table} as JSON: {error}")))
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

/// Bytes have no JSON form that PostgreSQL reads back as `BYTEA`.
fn blob_in_json(table: &str) -> StoreError {
    StoreError::Corrupt(format!(
        "a row for {table} holds bytes, which JSON cannot carry"
    ))
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
    fn rows_sent_as_json_keep_their_types_and_nulls() {
        let row = |seq: i64, client: Option<&'static str>| {
            Columns::new()
                .with("seq", seq)
                .with("client_addr", client)
                .with("ok", true)
        };
        let group =
            RowGroup::of("audit_log", vec![row(1, Some("a\"b")), row(2, None)]).expect("one shape");
        assert_eq!(
            group
                .insert_json_where_sql("audit_log", 5, "EXISTS (SELECT 1 FROM moved)")
                .expect("no bytes"),
            "INSERT INTO audit_log (seq, client_addr, ok) SELECT seq, client_addr, ok \
             FROM json_to_recordset(CAST($5 AS JSON)) AS new_rows \
             (seq BIGINT, client_addr TEXT, ok BOOLEAN) WHERE EXISTS (SELECT 1 FROM moved)"
        );
        let json: serde_json::Value =
            serde_json::from_str(&group.json("audit_log").expect("no bytes")).expect("JSON");
        assert_eq!(
            json,
            serde_json::json!([
                { "seq": 1, "client_addr": "a\"b", "ok": true },
                { "seq": 2, "client_addr": null, "ok": true },
            ])
        );
        let bytes = RowGroup::of("attachments", vec![Columns::new().with("data", &b"x"[..])])
            .expect("one row");
        assert!(bytes.json("attachments").is_err());
        assert!(bytes
            .insert_json_where_sql("attachments", 1, "TRUE")
            .is_err());
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
        let mixed = vec![row(1), Columns::new().with("ticket_id", 2i64)];
        assert!(RowGroup::of("ticket_categories", mixed).is_err());
        assert_eq!(
            [1, 2, 3, 5, 40].map(group_size),
            [1, 2, 2, 4, 32],
            "powers of two, at most MAX_ROWS_PER_INSERT"
        );
    }
}
