#include "store/sql/sql_license_store.hpp"

#include <boost/json.hpp>

namespace tessera::store::sql {

using licenses::Activation;
using licenses::License;
using licenses::StoredLicense;

namespace {

// The columns every license read selects, in this order (the activation count included).
#define LICENSE_COLUMNS                                                                                          \
  "l.id, l.project_id, l.user_id, l.product, l.expires_at, l.max_activations, l.suspended, l.metadata, "       \
  "l.created_at, l.updated_at, l.key_sealed, "                                                                  \
  "(SELECT count(*) FROM license_activations a WHERE a.license_id = l.id) "

StoredLicense license_from(const Statement& st) {
  StoredLicense out;
  License& l = out.license;
  l.id = st.text(0);
  l.project_id = st.text(1);
  l.user_id = st.optional_text(2);
  l.product = st.text(3);
  l.expires_at = st.optional_time(4);
  l.max_activations = st.integer(5);
  l.suspended = st.boolean(6);
  l.metadata = boost::json::parse(st.text(7)).as_object();
  l.created_at = st.time(8);
  l.updated_at = st.time(9);
  out.sealed_key = st.blob(10);
  l.activations = st.integer(11);
  return out;
}

Activation activation_from(const Statement& st) {
  return Activation{st.text(0), st.text(1), st.text(2), st.optional_text(3), st.time(4), st.time(5)};
}

}  // namespace

void SqlLicenseStore::insert(const License& l, std::string_view key_hash, std::string_view sealed_key) {
  auto st = conn_.prepare(
      "INSERT INTO licenses (id, project_id, key_hash, key_sealed, user_id, product, expires_at, max_activations, "
      "suspended, metadata, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  st.bind(1, l.id).bind(2, l.project_id).bind_blob(3, key_hash).bind_blob(4, sealed_key).bind(5, l.user_id);
  st.bind(6, l.product).bind(7, l.expires_at).bind(8, l.max_activations).bind(9, l.suspended);
  st.bind(10, boost::json::serialize(l.metadata)).bind(11, l.created_at).bind(12, l.updated_at).run();
}

std::optional<StoredLicense> SqlLicenseStore::find(std::string_view project_id, std::string_view id) {
  auto st = conn_.prepare("SELECT " LICENSE_COLUMNS "FROM licenses l WHERE l.project_id = ?1 AND l.id = ?2");
  st.bind(1, project_id).bind(2, id);
  if (!st.step()) return std::nullopt;
  return license_from(st);
}

std::optional<StoredLicense> SqlLicenseStore::find_by_key(std::string_view key_hash) {
  auto st = conn_.prepare("SELECT " LICENSE_COLUMNS "FROM licenses l WHERE l.key_hash = ?1");
  st.bind_blob(1, key_hash);
  if (!st.step()) return std::nullopt;
  return license_from(st);
}

std::vector<StoredLicense> SqlLicenseStore::list(std::string_view project_id, const licenses::LicenseFilter& f,
                                                    size_t limit, std::optional<std::string_view> before_id) {
  // NULL parameters switch a filter off, so one prepared statement serves every combination.
  auto st = conn_.prepare("SELECT " LICENSE_COLUMNS
                          "FROM licenses l WHERE l.project_id = ?1 AND (l.user_id = ?2 OR ?2 IS NULL) "
                          "AND (l.product = ?3 OR ?3 IS NULL) AND (l.suspended = ?4 OR ?4 IS NULL) "
                          "AND (l.id < ?5 OR ?5 IS NULL) ORDER BY l.id DESC LIMIT ?6");
  st.bind(1, project_id).bind(2, f.user_id).bind(3, f.product);
  if (f.suspended) st.bind(4, *f.suspended);
  else st.bind_null(4);
  if (before_id) st.bind(5, *before_id);
  else st.bind_null(5);
  st.bind(6, static_cast<int64_t>(limit));
  std::vector<StoredLicense> out;
  while (st.step()) out.push_back(license_from(st));
  return out;
}

void SqlLicenseStore::update(const License& l) {
  auto st = conn_.prepare(
      "UPDATE licenses SET user_id = ?2, product = ?3, expires_at = ?4, max_activations = ?5, suspended = ?6, "
      "metadata = ?7, updated_at = ?8 WHERE id = ?1");
  st.bind(1, l.id).bind(2, l.user_id).bind(3, l.product).bind(4, l.expires_at).bind(5, l.max_activations);
  st.bind(6, l.suspended).bind(7, boost::json::serialize(l.metadata)).bind(8, l.updated_at).run();
}

bool SqlLicenseStore::remove(std::string_view project_id, std::string_view id) {
  conn_.prepare("DELETE FROM licenses WHERE project_id = ?1 AND id = ?2").bind(1, project_id).bind(2, id).run();
  return conn_.changes() > 0;
}

std::optional<Activation> SqlLicenseStore::find_activation(std::string_view license_id, std::string_view fingerprint) {
  auto st = conn_.prepare(
      "SELECT id, license_id, fingerprint, hostname, created_at, last_activated_at FROM license_activations "
      "WHERE license_id = ?1 AND fingerprint = ?2");
  st.bind(1, license_id).bind(2, fingerprint);
  if (!st.step()) return std::nullopt;
  return activation_from(st);
}

std::vector<Activation> SqlLicenseStore::activations(std::string_view license_id) {
  auto st = conn_.prepare(
      "SELECT id, license_id, fingerprint, hostname, created_at, last_activated_at FROM license_activations "
      "WHERE license_id = ?1 ORDER BY id");
  st.bind(1, license_id);
  std::vector<Activation> out;
  while (st.step()) out.push_back(activation_from(st));
  return out;
}

void SqlLicenseStore::insert_activation(const Activation& a) {
  auto st = conn_.prepare(
      "INSERT INTO license_activations (id, license_id, fingerprint, hostname, created_at, last_activated_at) "
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
  st.bind(1, a.id).bind(2, a.license_id).bind(3, a.fingerprint).bind(4, a.hostname).bind(5, a.created_at);
  st.bind(6, a.last_activated_at).run();
}

void SqlLicenseStore::touch_activation(std::string_view id, Timestamp at, const std::optional<std::string>& hostname) {
  conn_.prepare("UPDATE license_activations SET last_activated_at = ?2, hostname = coalesce(?3, hostname) WHERE id = ?1")
      .bind(1, id)
      .bind(2, at)
      .bind(3, hostname)
      .run();
}

bool SqlLicenseStore::remove_activation(std::string_view license_id, std::string_view fingerprint) {
  conn_.prepare("DELETE FROM license_activations WHERE license_id = ?1 AND fingerprint = ?2")
      .bind(1, license_id)
      .bind(2, fingerprint)
      .run();
  return conn_.changes() > 0;
}

}  // namespace tessera::store::sql
