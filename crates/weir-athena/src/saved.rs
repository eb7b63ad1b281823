//! Named queries and prepared statements: saved SQL, journaled with the query history.
//! Named queries have ids and belong to a work group; prepared statements are named within a
//! work group and are made by CreatePreparedStatement or by SQL (`PREPARE name FROM ...`,
//! `DEALLOCATE PREPARE name`; `EXECUTE name USING ...` runs one).

use serde::{Deserialize, Serialize};

use crate::{now_ms, uuid, Athena, AthenaError, Op, Result};

/// A saved query (CreateNamedQuery).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NamedQuery {
    pub id: String,
    pub region: String,
    pub name: String,
    pub description: Option<String>,
    pub database: String,
    pub query: String,
    pub work_group: String,
    #[serde(default)]
    pub client_token: Option<String>,
}

/// A prepared statement of a work group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreparedStatement {
    pub region: String,
    pub work_group: String,
    pub name: String,
    pub query: String,
    pub description: Option<String>,
    pub last_modified_ms: i64,
}

pub(crate) fn prepared_key(region: &str, wg: &str, name: &str) -> String {
    format!("{region}/{wg}/{name}")
}

impl Athena {
    fn check_work_group(&self, region: &str, wg: &str) -> Result<()> {
        self.work_group(region, wg)
            .map(|_| ())
            .ok_or_else(|| AthenaError::InvalidRequest(format!("WorkGroup {wg} is not found.")))
    }

    /// CreateNamedQuery (idempotent on ClientRequestToken).
    #[allow(clippy::too_many_arguments)]
    pub fn create_named_query(
        &self,
        region: &str,
        name: &str,
        description: Option<String>,
        database: &str,
        query: &str,
        work_group: Option<&str>,
        client_token: Option<String>,
    ) -> Result<String> {
        let wg = work_group.unwrap_or("primary").to_string();
        self.check_work_group(region, &wg)?;
        if let Some(token) = &client_token {
            let state = self.inner.state.lock();
            if let Some(q) = state
                .named_queries
                .values()
                .find(|q| q.client_token.as_ref() == Some(token) && q.region == region)
            {
                return Ok(q.id.clone());
            }
        }
        let q = NamedQuery {
            id: uuid(),
            region: region.into(),
            name: name.into(),
            description,
            database: database.into(),
            query: query.into(),
            work_group: wg,
            client_token,
        };
        let id = q.id.clone();
        self.persist(Op::NamedQuery { q: Box::new(q) })?;
        Ok(id)
    }

    pub fn named_query(&self, region: &str, id: &str) -> Result<NamedQuery> {
        let state = self.inner.state.lock();
        state
            .named_queries
            .get(id)
            .filter(|q| q.region == region)
            .cloned()
            .ok_or_else(|| AthenaError::InvalidRequest(format!("NamedQuery {id} was not found")))
    }

    /// The named queries of a work group, oldest first.
    pub fn named_queries(&self, region: &str, work_group: &str) -> Vec<NamedQuery> {
        let state = self.inner.state.lock();
        state
            .named_queries
            .values()
            .filter(|q| q.region == region && q.work_group == work_group)
            .cloned()
            .collect()
    }

    /// UpdateNamedQuery: a new name, description and SQL.
    pub fn update_named_query(
        &self,
        region: &str,
        id: &str,
        name: &str,
        description: Option<String>,
        query: &str,
    ) -> Result<()> {
        let mut q = self.named_query(region, id)?;
        q.name = name.into();
        q.description = description;
        q.query = query.into();
        self.persist(Op::NamedQuery { q: Box::new(q) })
    }

    pub fn delete_named_query(&self, region: &str, id: &str) -> Result<()> {
        self.named_query(region, id)?;
        self.persist(Op::DeleteNamedQuery { id: id.into() })
    }

    /// Creates (`create`) or updates a prepared statement.
    pub fn put_prepared(
        &self,
        region: &str,
        work_group: &str,
        name: &str,
        query: &str,
        description: Option<String>,
        create: bool,
    ) -> Result<()> {
        self.check_work_group(region, work_group)?;
        let exists = self.prepared(region, work_group, name).is_ok();
        if create && exists {
            return Err(AthenaError::InvalidRequest(format!(
                "Prepared statement {name} already exists in WorkGroup {work_group}"
            )));
        }
        if !create && !exists {
            return Err(AthenaError::NotFound(format!(
                "Prepared statement {name} was not found in WorkGroup {work_group}."
            )));
        }
        self.persist(Op::Prepared {
            p: Box::new(PreparedStatement {
                region: region.into(),
                work_group: work_group.into(),
                name: name.into(),
                query: query.into(),
                description,
                last_modified_ms: now_ms(),
            }),
        })
    }

    pub fn prepared(
        &self,
        region: &str,
        work_group: &str,
        name: &str,
    ) -> Result<PreparedStatement> {
        let state = self.inner.state.lock();
        state
            .prepared
            .get(&prepared_key(region, work_group, name))
            .cloned()
            .ok_or_else(|| {
                AthenaError::NotFound(format!(
                    "Prepared statement {name} was not found in WorkGroup {work_group}."
                ))
            })
    }

    /// A work group's prepared statements in name order.
    pub fn prepared_statements(&self, region: &str, work_group: &str) -> Vec<PreparedStatement> {
        let prefix = prepared_key(region, work_group, "");
        let state = self.inner.state.lock();
        state
            .prepared
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, p)| p.clone())
            .collect()
    }

    pub fn delete_prepared(&self, region: &str, work_group: &str, name: &str) -> Result<()> {
        self.check_work_group(region, work_group)?;
        self.prepared(region, work_group, name)?;
        self.persist(Op::DeletePrepared {
            key: prepared_key(region, work_group, name),
        })
    }
}
