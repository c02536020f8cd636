//! The SQL both backends share, written once.
//!
//! The statements are the same on SQLite and PostgreSQL (sqlx's `QueryBuilder` writes `?` or
//! `$N` placeholders as the backend needs), so this macro is expanded once per backend with that
//! backend's database and connection types. The backends' modules hold only what really differs
//! between them: connecting, and how the append lock is taken.

macro_rules! backend_rows {
    ($database:ty, $connection:ty) => {
        use $crate::merkle::{range_nodes, CompactRange, NodeId};
        use $crate::record::Hash;
        use $crate::store::{
            node_hashes, stored_node, to_i64, NodeRow, StoreError, NODES_PER_QUERY_MAX,
            ROWS_PER_INSERT_MAX,
        };

        /// The stored hashes of `ids`, in that order.
        pub(crate) async fn fetch_nodes(
            connection: &mut $connection,
            ids: &[NodeId],
        ) -> Result<Vec<Hash>, StoreError> {
            assert!(ids.len() <= NODES_PER_QUERY_MAX);
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let mut query = sqlx::QueryBuilder::<$database>::new(
                "SELECT level, node_index, leaf_end, hash FROM merkle_nodes WHERE ",
            );
            for (offset, id) in ids.iter().enumerate() {
                if offset > 0 {
                    query.push(" OR ");
                }
                query
                    .push("(level = ")
                    .push_bind(i64::from(id.level()))
                    .push(" AND node_index = ")
                    .push_bind(to_i64(id.index()))
                    .push(")");
            }
            let rows: Vec<NodeRow> = query.build_query_as().fetch_all(&mut *connection).await?;
            node_hashes(ids, rows)
        }

        /// Inserts newly completed perfect subtrees.
        pub(crate) async fn insert_nodes(
            connection: &mut $connection,
            nodes: &[(NodeId, Hash)],
        ) -> Result<(), StoreError> {
            for chunk in nodes.chunks(ROWS_PER_INSERT_MAX) {
                let mut insert = sqlx::QueryBuilder::<$database>::new(
                    "INSERT INTO merkle_nodes (level, node_index, leaf_end, hash) ",
                );
                insert.push_values(chunk, |mut row, (id, hash)| {
                    row.push_bind(i64::from(id.level()))
                        .push_bind(to_i64(id.index()))
                        .push_bind(to_i64(id.leaf_end()))
                        .push_bind(hash.as_bytes().to_vec());
                });
                insert.build().execute(&mut *connection).await?;
            }
            Ok(())
        }

        /// Adds `leaves` to the tree of `tree_size` leaves: reads its compact range (at most
        /// `log2(tree_size) + 1` rows), appends, and inserts every subtree that completes.
        /// Runs inside the append transaction, under the head lock. Returns the new root.
        pub(crate) async fn extend_tree(
            connection: &mut $connection,
            tree_size: u64,
            leaves: &[Hash],
        ) -> Result<Hash, StoreError> {
            let peaks = fetch_nodes(connection, &range_nodes(0, tree_size)).await?;
            let mut range = CompactRange::from_peaks(tree_size, peaks);
            let mut completed = Vec::with_capacity(2 * leaves.len());
            for leaf in leaves {
                completed.extend(range.append(*leaf));
            }
            assert_eq!(range.tree_size(), tree_size + leaves.len() as u64);
            insert_nodes(connection, &completed).await?;
            Ok(range.root())
        }

        /// One page of stored nodes after `(leaf_end, level)`, in the order appends create them.
        pub(crate) async fn nodes_page(
            connection: &mut $connection,
            after: (i64, i64),
            limit: i64,
        ) -> Result<Vec<$crate::store::StoredNode>, StoreError> {
            let mut query = sqlx::QueryBuilder::<$database>::new(
                "SELECT level, node_index, leaf_end, hash FROM merkle_nodes WHERE (leaf_end, level) > (",
            );
            query
                .push_bind(after.0)
                .push(", ")
                .push_bind(after.1)
                .push(") ORDER BY leaf_end, level LIMIT ")
                .push_bind(limit);
            let rows: Vec<NodeRow> = query.build_query_as().fetch_all(&mut *connection).await?;
            rows.into_iter().map(stored_node).collect()
        }
    };
}

pub(crate) use backend_rows;
