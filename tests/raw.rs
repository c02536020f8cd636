//! Raw SQL behind the program's back, as an attacker or administrator with database rights would.

use sqlx::Connection;

/// Runs one statement directly on the ledger's database; returns the database's error text.
pub async fn execute(url: &str, statement: &str) -> Result<u64, String> {
    if url.starts_with("postgres") {
        let mut connection = sqlx::PgConnection::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        let done = sqlx::query(statement).execute(&mut connection).await;
        done.map(|outcome| outcome.rows_affected())
            .map_err(|e| e.to_string())
    } else {
        let path = url.trim_start_matches("sqlite://");
        let mut connection = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
            .await
            .map_err(|e| e.to_string())?;
        let done = sqlx::raw_sql(statement).execute(&mut connection).await;
        done.map(|outcome| outcome.rows_affected())
            .map_err(|e| e.to_string())
    }
}

/// Runs one query that answers a single integer (or none), directly on the ledger's database.
pub async fn integer(url: &str, query: &str) -> Result<Option<i64>, String> {
    if url.starts_with("postgres") {
        let mut connection = sqlx::PgConnection::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query_scalar(query)
            .fetch_optional(&mut connection)
            .await
            .map_err(|e| e.to_string())
    } else {
        let path = url.trim_start_matches("sqlite://");
        let mut connection = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query_scalar(query)
            .fetch_optional(&mut connection)
            .await
            .map_err(|e| e.to_string())
    }
}

/// Runs one query that answers one text column, directly on the ledger's database.
pub async fn texts(url: &str, query: &str) -> Result<Vec<String>, String> {
    if url.starts_with("postgres") {
        let mut connection = sqlx::PgConnection::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query_scalar(query)
            .fetch_all(&mut connection)
            .await
            .map_err(|e| e.to_string())
    } else {
        let path = url.trim_start_matches("sqlite://");
        let mut connection = sqlx::SqliteConnection::connect(&format!("sqlite://{path}"))
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query_scalar(query)
            .fetch_all(&mut connection)
            .await
            .map_err(|e| e.to_string())
    }
}
