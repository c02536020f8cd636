//! The SQL both backends share, written once.
//!
//! The statements are the same on SQLite and PostgreSQL (sqlx's `QueryBuilder` writes `?` or
//! `$N` placeholders as the backend needs), so this macro is expanded once per backend with that
//! backend's database and connection types. The backends' modules hold only what really differs
//! between them: connecting, and how appends are written (SQLite: [`sequential_append_rows`]
//! under `BEGIN IMMEDIATE`; PostgreSQL: two fixed statements of its own, ADR 0012).

macro_rules! backend_rows {
    ($database:ty, $connection:ty) => {
        use $crate::merkle::{range_nodes, CompactRange, NodeId};
        use $crate::record::Hash;
        use $crate::store::{
            is_unique_violation, node_hashes, stored_checkpoint, stored_node, to_i64,
            CheckpointRow, NewCheckpoint, NewCosignature, NodeRow, StoreError, StoredCheckpoint,
            CHECKPOINT_COLUMNS, NODES_PER_QUERY_MAX, ROWS_PER_INSERT_MAX,
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

        /// Completes the Merkle tree of a ledger whose records predate it (a database made before
        /// the `merkle_nodes` migration): adds the nodes of every record the tree lacks. Runs in
        /// a transaction holding the head lock. Returns how many records were added to the tree.
        pub(crate) async fn backfill_tree(connection: &mut $connection) -> Result<u64, StoreError> {
            let (tree_size, leaves): (i64, i64) = sqlx::query_as(
                "SELECT tree_size, COALESCE((SELECT MAX(node_index) + 1 FROM merkle_nodes \
                 WHERE level = 0), 0) FROM ledger_head WHERE id = 1",
            )
            .fetch_one(&mut *connection)
            .await?;
            let (tree_size, mut next) = (tree_size.unsigned_abs(), leaves.unsigned_abs());
            let added = tree_size.saturating_sub(next);
            while next < tree_size {
                let mut query = sqlx::QueryBuilder::<$database>::new(
                    "SELECT position, hash FROM events WHERE position >= ",
                );
                query
                    .push_bind(to_i64(next))
                    .push(" ORDER BY position LIMIT ")
                    .push_bind(ROWS_PER_INSERT_MAX as i64);
                let rows: Vec<(i64, Vec<u8>)> =
                    query.build_query_as().fetch_all(&mut *connection).await?;
                let mut leaves = Vec::with_capacity(rows.len());
                for (offset, (position, hash)) in rows.iter().enumerate() {
                    if *position != to_i64(next + offset as u64) {
                        return Err(StoreError::Corrupt {
                            position: to_i64(next + offset as u64),
                            reason: "a record is missing: the Merkle tree cannot be completed"
                                .to_owned(),
                        });
                    }
                    leaves.push($crate::store::column_hash(hash, *position, "hash")?);
                }
                if leaves.is_empty() {
                    return Err(StoreError::Corrupt {
                        position: to_i64(next),
                        reason: "the head counts more records than are stored".to_owned(),
                    });
                }
                extend_tree(connection, next, &leaves).await?;
                next += leaves.len() as u64;
            }
            Ok(added)
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

        /// Adds the cosignature lines of each checkpoint, in witness order.
        async fn with_cosignatures(
            connection: &mut $connection,
            rows: Vec<CheckpointRow>,
        ) -> Result<Vec<StoredCheckpoint>, StoreError> {
            let mut checkpoints = rows
                .into_iter()
                .map(stored_checkpoint)
                .collect::<Result<Vec<_>, _>>()?;
            if checkpoints.is_empty() {
                return Ok(checkpoints);
            }
            let mut query = sqlx::QueryBuilder::<$database>::new(
                "SELECT checkpoint_id, line FROM cosignatures WHERE checkpoint_id IN (",
            );
            let mut ids = query.separated(", ");
            for checkpoint in &checkpoints {
                ids.push_bind(to_i64(checkpoint.checkpoint_id));
            }
            query.push(") ORDER BY checkpoint_id, witness, key_id");
            let lines: Vec<(i64, String)> =
                query.build_query_as().fetch_all(&mut *connection).await?;
            for (checkpoint_id, line) in lines {
                let owner = checkpoints
                    .iter_mut()
                    .find(|checkpoint| to_i64(checkpoint.checkpoint_id) == checkpoint_id);
                if let Some(owner) = owner {
                    owner.cosignatures.push(line);
                }
            }
            Ok(checkpoints)
        }

        /// The last checkpoint signed (highest id), with its cosignatures.
        pub(crate) async fn latest_checkpoint(
            connection: &mut $connection,
        ) -> Result<Option<StoredCheckpoint>, StoreError> {
            let rows: Vec<CheckpointRow> = sqlx::query_as(&format!(
                "SELECT {CHECKPOINT_COLUMNS} FROM checkpoints ORDER BY checkpoint_id DESC LIMIT 1"
            ))
            .fetch_all(&mut *connection)
            .await?;
            Ok(with_cosignatures(connection, rows).await?.pop())
        }

        /// The checkpoint with the largest tree size that `witness` (name and key ID) cosigned.
        pub(crate) async fn latest_cosigned_by(
            connection: &mut $connection,
            witness: &str,
            key_id: u32,
        ) -> Result<Option<StoredCheckpoint>, StoreError> {
            let mut query = sqlx::QueryBuilder::<$database>::new(format!(
                "SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE checkpoint_id IN \
                 (SELECT checkpoint_id FROM cosignatures WHERE witness = "
            ));
            query
                .push_bind(witness.to_owned())
                .push(" AND key_id = ")
                .push_bind(i64::from(key_id))
                .push(") ORDER BY tree_size DESC, checkpoint_id DESC LIMIT 1");
            let rows: Vec<CheckpointRow> =
                query.build_query_as().fetch_all(&mut *connection).await?;
            Ok(with_cosignatures(connection, rows).await?.pop())
        }

        /// One page of checkpoints after `(tree_size, checkpoint_id)`, by tree size.
        pub(crate) async fn checkpoints_page(
            connection: &mut $connection,
            after: (i64, i64),
            limit: i64,
        ) -> Result<Vec<StoredCheckpoint>, StoreError> {
            let mut query = sqlx::QueryBuilder::<$database>::new(format!(
                "SELECT {CHECKPOINT_COLUMNS} FROM checkpoints WHERE (tree_size, checkpoint_id) > ("
            ));
            query
                .push_bind(after.0)
                .push(", ")
                .push_bind(after.1)
                .push(") ORDER BY tree_size, checkpoint_id LIMIT ")
                .push_bind(limit);
            let rows: Vec<CheckpointRow> =
                query.build_query_as().fetch_all(&mut *connection).await?;
            with_cosignatures(connection, rows).await
        }

        /// Inserts a checkpoint under the id it was signed as the successor of; a concurrent
        /// signer that took the id first makes this a [`StoreError::CheckpointRace`].
        pub(crate) async fn insert_checkpoint(
            connection: &mut $connection,
            checkpoint: &NewCheckpoint,
            recorded_at: &str,
        ) -> Result<(), StoreError> {
            let mut insert = sqlx::QueryBuilder::<$database>::new(
                "INSERT INTO checkpoints (checkpoint_id, tree_size, root, note, recorded_at) ",
            );
            insert.push_values([checkpoint], |mut row, checkpoint| {
                row.push_bind(to_i64(checkpoint.checkpoint_id))
                    .push_bind(to_i64(checkpoint.tree_size))
                    .push_bind(checkpoint.root.as_bytes().to_vec())
                    .push_bind(checkpoint.note.clone())
                    .push_bind(recorded_at.to_owned());
            });
            match insert.build().execute(&mut *connection).await {
                Err(error) if is_unique_violation(&error) => Err(StoreError::CheckpointRace),
                other => other.map(|_| ()).map_err(StoreError::from),
            }
        }

        /// Inserts a cosignature; false when the witness had already cosigned the checkpoint.
        pub(crate) async fn insert_cosignature(
            connection: &mut $connection,
            cosignature: &NewCosignature,
        ) -> Result<bool, StoreError> {
            let mut insert = sqlx::QueryBuilder::<$database>::new(
                "INSERT INTO cosignatures (checkpoint_id, witness, key_id, cosigned_at, line) ",
            );
            insert.push_values([cosignature], |mut row, cosignature| {
                row.push_bind(to_i64(cosignature.checkpoint_id))
                    .push_bind(cosignature.witness.clone())
                    .push_bind(i64::from(cosignature.key_id))
                    .push_bind(to_i64(cosignature.cosigned_at))
                    .push_bind(cosignature.line.clone());
            });
            insert.push(" ON CONFLICT DO NOTHING");
            let done = insert.build().execute(&mut *connection).await?;
            Ok(done.rows_affected() == 1)
        }

        /// Inserts record rows (append and import share this statement).
        pub(crate) async fn insert_events(
            connection: &mut $connection,
            rows: &[$crate::store::EventRow<'_>],
        ) -> Result<(), sqlx::Error> {
            assert!(rows.len() <= ROWS_PER_INSERT_MAX);
            let mut insert = sqlx::QueryBuilder::<$database>::new(
                "INSERT INTO events (position, stream, version, event_type, command_id, \
                 recorded_at, canonical, hash, prev) ",
            );
            insert.push_values(rows, |mut row, event| {
                row.push_bind(to_i64(event.position))
                    .push_bind(event.stream.to_owned())
                    .push_bind(to_i64(event.version))
                    .push_bind(event.event_type.to_owned())
                    .push_bind(event.command_id.to_owned())
                    .push_bind(event.recorded_at.to_owned())
                    .push_bind(event.canonical.to_vec())
                    .push_bind(event.hash.as_bytes().to_vec())
                    .push_bind(event.prev.as_bytes().to_vec());
            });
            insert.build().execute(&mut *connection).await?;
            Ok(())
        }

        /// What the store remembers of `command_id`: one statement.
        pub(crate) async fn receipt_in(
            connection: &mut $connection,
            command_id: &str,
        ) -> Result<Option<$crate::store::CommandReceipt>, StoreError> {
            let mut found = receipts_in(connection, &[command_id]).await?;
            Ok(found.remove(command_id))
        }

        /// The receipts of those of `command_ids` the store has seen: ONE statement when none
        /// was seen (the usual case), and one more for the records of those that were. Read in
        /// the caller's transaction when there is one; otherwise a command committed between the
        /// two statements is simply reported with its records, which are written with it.
        pub(crate) async fn receipts_in(
            connection: &mut $connection,
            command_ids: &[&str],
        ) -> Result<std::collections::HashMap<String, $crate::store::CommandReceipt>, StoreError>
        {
            let mut receipts = std::collections::HashMap::new();
            if command_ids.is_empty() {
                return Ok(receipts);
            }
            let mut query = sqlx::QueryBuilder::<$database>::new(
                "SELECT command_id, request_hash, stream, first_position, \
                 CAST(event_count AS BIGINT) FROM commands WHERE command_id IN (",
            );
            let mut ids = query.separated(", ");
            for command_id in command_ids {
                ids.push_bind(command_id.to_string());
            }
            query.push(")");
            let seen: Vec<(String, Vec<u8>, String, i64, i64)> =
                query.build_query_as().fetch_all(&mut *connection).await?;
            if seen.is_empty() {
                return Ok(receipts);
            }
            let mut query = sqlx::QueryBuilder::<$database>::new(
                "SELECT position, version, hash FROM events WHERE ",
            );
            for (index, (_, _, _, first_position, event_count)) in seen.iter().enumerate() {
                if index > 0 {
                    query.push(" OR ");
                }
                query
                    .push("(position >= ")
                    .push_bind(*first_position)
                    .push(" AND position < ")
                    .push_bind(first_position + event_count)
                    .push(")");
            }
            query.push(" ORDER BY position");
            let records: Vec<(i64, i64, Vec<u8>)> =
                query.build_query_as().fetch_all(&mut *connection).await?;
            for (command_id, request_hash, stream, first_position, event_count) in seen {
                let own: Vec<(i64, i64, Vec<u8>)> = records
                    .iter()
                    .filter(|(position, ..)| {
                        *position >= first_position && *position < first_position + event_count
                    })
                    .cloned()
                    .collect();
                let receipt = $crate::store::receipt(&request_hash, stream, own)?;
                receipts.insert(command_id, receipt);
            }
            Ok(receipts)
        }

        /// Inserts idempotency rows rebuilt from an export.
        async fn insert_commands(
            connection: &mut $connection,
            commands: &[$crate::export::ExportedCommand],
        ) -> Result<(), StoreError> {
            for chunk in commands.chunks(ROWS_PER_INSERT_MAX) {
                let mut insert = sqlx::QueryBuilder::<$database>::new(
                    "INSERT INTO commands (command_id, request_hash, stream, first_position, \
                     event_count) ",
                );
                insert.push_values(chunk, |mut row, command| {
                    row.push_bind(command.command_id.clone())
                        .push_bind(command.request_hash.as_bytes().to_vec())
                        .push_bind(command.stream.clone())
                        .push_bind(to_i64(command.first_position))
                        .push_bind(
                            i32::try_from(command.event_count).expect("a command has few events"),
                        );
                });
                insert.build().execute(&mut *connection).await?;
            }
            Ok(())
        }

        /// Every command by first position, for exports.
        pub(crate) async fn commands_page(
            connection: &mut $connection,
            after: (i64, i64),
            limit: i64,
        ) -> Result<Vec<$crate::export::ExportedCommand>, StoreError> {
            let mut query = sqlx::QueryBuilder::<$database>::new(
                "SELECT command_id, request_hash, stream, first_position, CAST(event_count AS BIGINT) \
                 FROM commands WHERE first_position > ",
            );
            query
                .push_bind(after.0)
                .push(" ORDER BY first_position LIMIT ")
                .push_bind(limit);
            let rows: Vec<(String, Vec<u8>, String, i64, i64)> =
                query.build_query_as().fetch_all(&mut *connection).await?;
            rows.into_iter().map($crate::store::exported_command).collect()
        }

        /// Restores a verified export into the empty ledger this transaction has locked:
        /// records, Merkle nodes, commands, the checkpoint and the head, or nothing at all.
        pub(crate) async fn restore_into(
            connection: &mut $connection,
            mut reader: $crate::export::ExportReader,
            options: &$crate::verify::VerifyOptions,
        ) -> Result<$crate::verify::VerifiedLog, $crate::export::RestoreError> {
            use $crate::export::RestoreError;
            let (tree_size, checkpoints): (i64, i64) = sqlx::query_as(
                "SELECT tree_size, (SELECT COUNT(*) FROM checkpoints) FROM ledger_head WHERE id = 1",
            )
            .fetch_one(&mut *connection)
            .await?;
            if tree_size != 0 || checkpoints != 0 {
                return Err(RestoreError::NotEmpty {
                    tree_size: tree_size.unsigned_abs(),
                    checkpoints: checkpoints.unsigned_abs(),
                });
            }
            let mut recorded_at_last = String::new();
            loop {
                let mut batch = Vec::with_capacity(ROWS_PER_INSERT_MAX);
                while batch.len() < ROWS_PER_INSERT_MAX {
                    match reader.next_record()? {
                        Some(verified) => batch.push(verified),
                        None => break,
                    }
                }
                let Some(last) = batch.last() else { break };
                recorded_at_last.clone_from(&last.record.recorded_at);
                restore_batch(connection, &batch).await?;
            }
            let (verified, note, last_command) = reader.finish(options)?;
            insert_commands(connection, last_command.as_slice()).await?;
            let checkpoint = NewCheckpoint {
                checkpoint_id: 1,
                tree_size: verified.tree_size,
                root: verified.root,
                note,
            };
            insert_checkpoint(connection, &checkpoint, &recorded_at_last).await?;
            let mut update = sqlx::QueryBuilder::<$database>::new("UPDATE ledger_head SET tree_size = ");
            update
                .push_bind(to_i64(verified.tree_size))
                .push(", head_hash = ")
                .push_bind(verified.head_hash.as_bytes().to_vec())
                .push(", recorded_at_last = ")
                .push_bind(recorded_at_last)
                .push(" WHERE id = 1");
            update.build().execute(&mut *connection).await?;
            Ok(verified)
        }

        async fn restore_batch(
            connection: &mut $connection,
            batch: &[$crate::export::VerifiedRecord],
        ) -> Result<(), StoreError> {
            let rows: Vec<$crate::store::EventRow<'_>> = batch
                .iter()
                .map(|verified| $crate::store::EventRow::of(&verified.stored, &verified.record))
                .collect();
            insert_events(connection, &rows).await?;
            let nodes: Vec<(NodeId, Hash)> =
                batch.iter().flat_map(|verified| verified.nodes.iter().copied()).collect();
            insert_nodes(connection, &nodes).await?;
            let commands: Vec<$crate::export::ExportedCommand> = batch
                .iter()
                .filter_map(|verified| verified.finished_command.clone())
                .collect();
            insert_commands(connection, &commands).await
        }
    };
}

/// The append as a run of statements inside a transaction that holds the head lock: what
/// SQLite uses (its round trips are in-process). PostgreSQL appends with two fixed statements
/// instead (`postgres/append.rs`, ADR 0012). Expanded after [`backend_rows`], whose functions it
/// calls.
macro_rules! sequential_append_rows {
    ($database:ty, $connection:ty) => {
        /// The receipts of those of `requests`' command ids the store has seen: one query.
        async fn batch_receipts(
            connection: &mut $connection,
            requests: &[$crate::store::AppendRequest],
        ) -> Result<std::collections::HashMap<String, $crate::store::CommandReceipt>, StoreError> {
            let ids: Vec<&str> = requests
                .iter()
                .map(|request| request.command.command_id.as_str())
                .collect();
            receipts_in(connection, &ids).await
        }

        /// The current version of each stream `requests` write to (absent: a new stream).
        async fn batch_versions(
            connection: &mut $connection,
            requests: &[$crate::store::AppendRequest],
        ) -> Result<std::collections::HashMap<String, u64>, StoreError> {
            let mut query = sqlx::QueryBuilder::<$database>::new(
                "SELECT stream, MAX(version) FROM events WHERE stream IN (",
            );
            let mut streams = query.separated(", ");
            for request in requests {
                streams.push_bind(request.stream.clone());
            }
            query.push(") GROUP BY stream");
            let rows: Vec<(String, i64)> =
                query.build_query_as().fetch_all(&mut *connection).await?;
            rows.into_iter()
                .map(|(stream, version)| {
                    Ok((stream, $crate::store::column_u64(version, -1, "version")?))
                })
                .collect()
        }

        /// Appends a batch of commands inside a transaction that holds the head lock: plans it
        /// ([`crate::store::plan_batch`]: idempotency, versions, sealing, all before any write),
        /// then inserts the records, extends the Merkle tree, inserts the idempotency rows and
        /// moves the head, each with multi-row inserts. Single appends come through here too.
        pub(crate) async fn append_batch_in(
            connection: &mut $connection,
            locked: &$crate::store::LockedHead,
            requests: &[$crate::store::AppendRequest],
        ) -> Result<$crate::store::BatchPlan, StoreError> {
            assert!(!requests.is_empty());
            assert!(requests.len() <= $crate::store::BATCH_REQUESTS_MAX);
            let receipts = batch_receipts(connection, requests).await?;
            let versions = batch_versions(connection, requests).await?;
            let plan = $crate::store::plan_batch(
                locked,
                requests,
                &receipts,
                versions,
                jiff::Timestamp::now(),
            );
            if plan.sealed.is_empty() {
                return Ok(plan);
            }
            let rows: Vec<$crate::store::EventRow<'_>> = plan
                .sealed
                .iter()
                .map($crate::store::EventRow::sealed)
                .collect();
            for chunk in rows.chunks(ROWS_PER_INSERT_MAX) {
                insert_events(connection, chunk).await?;
            }
            let leaves: Vec<Hash> = plan.sealed.iter().map(|record| record.hash).collect();
            extend_tree(connection, locked.tree_size, &leaves).await?;
            insert_commands(connection, &plan.commands).await?;
            assert_eq!(plan.head.tree_size, locked.tree_size + leaves.len() as u64);
            let mut update =
                sqlx::QueryBuilder::<$database>::new("UPDATE ledger_head SET tree_size = ");
            update
                .push_bind(to_i64(plan.head.tree_size))
                .push(", head_hash = ")
                .push_bind(plan.head.head_hash.as_bytes().to_vec())
                .push(", recorded_at_last = ")
                .push_bind(plan.head.recorded_at_last.clone())
                .push(" WHERE id = 1");
            update.build().execute(&mut *connection).await?;
            Ok(plan)
        }
    };
}

pub(crate) use backend_rows;
pub(crate) use sequential_append_rows;
