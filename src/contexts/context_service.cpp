#include "contexts/context_service.hpp"

#include <charconv>

#include "contexts/public_key.hpp"
#include "core/uuid.hpp"
#include "identity/identifiers.hpp"
#include "store/store.hpp"

namespace tessera::contexts {

namespace {
Error not_found() { return Error::not_found("context_not_found", "No such context in this project."); }
}  // namespace

std::vector<FieldError> check_context(const std::string& name, const std::string& description) {
  std::vector<FieldError> errors;
  if (name.empty() || identity::utf8_length(name) > 128) errors.push_back({"name", "length", "must be 1 to 128 characters"});
  if (identity::utf8_length(description) > 1024) errors.push_back({"description", "length", "must be at most 1024 characters"});
  return errors;
}

std::vector<FieldError> check_member_key(MemberKey& key, const std::string& key_field, const std::string& type_field) {
  if (!valid_key_type(key.key_type)) return {{type_field, "invalid", "must be ed25519 or p256"}};
  auto normalized = normalize_public_key(key.key_type, key.public_key);
  if (!normalized)
    return {{key_field, "invalid_key",
             key.key_type == "ed25519" ? "must be 32 bytes in base64 (an Ed25519 public key)"
                                       : "must be an EC P-256 public key (SubjectPublicKeyInfo) in PEM or base64 DER"}};
  key.public_key = *normalized;
  return {};
}

ContextService::ContextService(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}

Result<Context> ContextService::create(const std::string& project_id, const std::string& name, const std::string& description) {
  if (auto errors = check_context(name, description); !errors.empty()) return fail(Error::validation(std::move(errors)));
  Timestamp now = clock_.now();
  Context c{make_uuid_v7(now), project_id, name, description, 0, now, now};
  store_.write([&](store::Repositories& r) { r.contexts.insert(c); });
  return c;
}

Result<Context> ContextService::get(const std::string& project_id, const std::string& id, const std::optional<std::string>& viewer) {
  return store_.read([&](store::Repositories& r) -> Result<Context> {
    auto c = r.contexts.find(project_id, id);
    if (!c || (viewer && !r.contexts.find_member(id, *viewer))) return fail(not_found());
    return *c;
  });
}

std::vector<Context> ContextService::list(const std::string& project_id, const std::optional<std::string>& viewer,
                                          size_t limit, const std::optional<std::string>& before_id) {
  return store_.read([&](store::Repositories& r) {
    return r.contexts.list(project_id, viewer ? std::optional<std::string_view>(*viewer) : std::nullopt, limit,
                           before_id ? std::optional<std::string_view>(*before_id) : std::nullopt);
  });
}

Status ContextService::remove(const std::string& project_id, const std::string& id) {
  if (!store_.write([&](store::Repositories& r) { return r.contexts.remove(project_id, id); })) return fail(not_found());
  return {};
}

Result<std::pair<Member, bool>> ContextService::put_member(const std::string& project_id, const std::string& id,
                                                           const std::string& user_id, const MemberKey& key) {
  MemberKey checked = key;
  if (auto errors = check_member_key(checked); !errors.empty()) return fail(Error::validation(std::move(errors)));
  Timestamp now = clock_.now();
  return store_.write([&](store::Repositories& r) -> Result<std::pair<Member, bool>> {
    if (!r.contexts.find(project_id, id)) return fail(not_found());
    if (!r.users.find(project_id, user_id)) return fail(Error::not_found("user_not_found", "No such user in this project."));
    auto existing = r.contexts.find_member(id, user_id);
    Member m{id, user_id, checked.public_key, checked.key_type, existing ? existing->added_at : now, now};
    r.contexts.put_member(m);
    return std::pair{m, !existing};
  });
}

Status ContextService::remove_member(const std::string& project_id, const std::string& id, const std::string& user_id) {
  return store_.write([&](store::Repositories& r) -> Status {
    if (!r.contexts.find(project_id, id)) return fail(not_found());
    if (!r.contexts.remove_member(id, user_id))
      return fail(Error::not_found("member_not_found", "This user is not a member of the context."));
    return {};
  });
}

std::string member_position(const Member& m) { return std::to_string(to_micros(m.added_at)) + ":" + m.user_id; }

Result<std::vector<Member>> ContextService::members(const std::string& project_id, const std::string& id,
                                                    const std::optional<std::string>& viewer, size_t limit,
                                                    const std::optional<std::string>& after) {
  std::optional<std::pair<Timestamp, std::string>> position;
  if (after) {
    auto colon = after->find(':');
    int64_t micros = 0;
    auto [end, ec] = std::from_chars(after->data(), after->data() + (colon == std::string::npos ? 0 : colon), micros);
    if (colon == std::string::npos || ec != std::errc() || end != after->data() + colon)
      return fail(Error::bad_request("invalid_cursor", "The cursor is not one this server returned."));
    position.emplace(from_micros(micros), after->substr(colon + 1));
  }
  return store_.read([&](store::Repositories& r) -> Result<std::vector<Member>> {
    if (!r.contexts.find(project_id, id) || (viewer && !r.contexts.find_member(id, *viewer))) return fail(not_found());
    return r.contexts.members(id, limit, position);
  });
}

}  // namespace tessera::contexts
