-- GET /v1/users on large projects: every list is scoped to one project and ordered by its sort keys,
-- then id (the keyset tie-breaker). Each index below ends with id, so a page of the common orders and
-- filters is one index range scan of `limit` rows instead of a sort of the project.
DROP INDEX IF EXISTS users_project_created;
CREATE INDEX users_project_id ON users (project_id, id);
CREATE INDEX users_project_created_id ON users (project_id, created_at, id);
CREATE INDEX users_project_updated_id ON users (project_id, updated_at, id);
CREATE INDEX users_project_last_request_id ON users (project_id, last_request_at, id);
CREATE INDEX users_project_active_id ON users (project_id, active, id);
CREATE INDEX users_project_external_id ON users (project_id, external_id, id) WHERE external_id IS NOT NULL;
