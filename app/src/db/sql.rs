//! Raw SQL for either backend, where the query builder cannot say it (row locks, batch calls).
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value};

pub fn is_postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DatabaseBackend::Postgres
}

/// A statement written with `$n` placeholders, for either backend (SQLite spells them `?n`).
pub fn stmt(db: &impl ConnectionTrait, sql: &str, values: Vec<Value>) -> Statement {
    let backend = db.get_database_backend();
    let sql = if backend == DatabaseBackend::Sqlite { sql.replace('$', "?") } else { sql.to_string() };
    Statement::from_sql_and_values(backend, sql, values)
}
