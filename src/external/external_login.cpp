#include "external/external_login.hpp"

#include "core/uuid.hpp"
#include "crypto/token.hpp"
#include "identity/identifiers.hpp"
#include "identity/user_service.hpp"
#include "store/store.hpp"

namespace tessera::external {

namespace {

Error user_inactive() { return Error::forbidden("user_inactive", "This account is suspended."); }

Error invalid_code() {
  return Error::bad_request("invalid_code", "The code is unknown, used or expired, or the code_verifier does not match.");
}

// What the provider says, kept only where it follows our rules: a provider's odd value never blocks a login.
identity::User new_user(const projects::Project& project, const ExternalProfile& profile, ProviderKind kind, Timestamp now) {
  identity::User u;
  u.id = make_uuid_v7(now);
  u.project_id = project.id;
  if (profile.email && identity::valid_email(*profile.email)) {
    u.email = profile.email;
    u.email_verified = profile.email_verified;
  }
  if (profile.login && identity::valid_login(*profile.login)) u.login = profile.login;
  if (profile.phone && identity::valid_phone(*profile.phone)) u.phone = profile.phone;
  if (profile.full_name && identity::utf8_length(*profile.full_name) <= 256) u.full_name = profile.full_name;
  if (kind == ProviderKind::verify_url) u.external_id = profile.subject;
  u.created_at = u.updated_at = now;
  return u;
}

}  // namespace

ExternalLogin::ExternalLogin(store::Store& store, const Clock& clock, identity::UserService& users, Micros code_ttl,
                             size_t cache_size)
    : store_(store), clock_(clock), users_(users), code_ttl_(code_ttl), identities_(cache_size) {
  store_.caches().follow(store::Topic::identities, identities_);
}

Result<SignedIn> ExternalLogin::sign_in(const projects::Project& project, const Provider& provider,
                                        const ExternalProfile& profile, FlowAction action) {
  Timestamp now = clock_.now();
  const std::string& name = provider.name;
  auto result = store_.write([&](store::Repositories& r) -> Result<SignedIn> {
    if (auto linked = r.identities.find(project.id, name, profile.subject)) {
      auto user = r.users.find(project.id, linked->user_id);
      if (!user) return fail(Error::internal_error("identity " + name + " links to a missing user"));
      if (!user->active) return fail(user_inactive());
      return SignedIn{std::move(*user), false, name};
    }
    Identity identity{project.id, name, profile.subject, "", profile.email, now};
    bool verified_email = profile.email && profile.email_verified && identity::valid_email(*profile.email);
    if (project.link_by_email && verified_email) {
      auto key = identity::identifier_key(identity::IdentifierKind::email, *profile.email);
      // Both sides verified: linking to an address nobody proved would hand the account to whoever registered it.
      if (auto existing = r.users.find_by_identifier(project.id, identity::IdentifierKind::email, key);
          existing && existing->email_verified) {
        if (!existing->active) return fail(user_inactive());
        identity.user_id = existing->id;
        r.identities.insert(identity);
        r.changes.invalidate(store::Topic::identities, existing->id);
        return SignedIn{std::move(*existing), false, name};
      }
    }
    if (action == FlowAction::signin)
      return fail(Error::not_found("account_not_found", "No account is linked to this identity; sign up first."));
    auto user = new_user(project, profile, provider.kind, now);
    if (auto conflict = r.users.insert(user, std::nullopt)) return fail(identity::identifier_taken(*conflict));
    identity.user_id = user.id;
    r.identities.insert(identity);
    r.changes.invalidate(store::Topic::identities, user.id);
    users_.record_user_event(r, "user.created", user);
    return SignedIn{std::move(user), true, name};
  });
  return result;
}

std::shared_ptr<const std::vector<Identity>> ExternalLogin::identities(const std::string& user_id) {
  if (auto cached = identities_.get(user_id)) return cached;
  uint64_t epoch = identities_.epoch();
  auto list = std::make_shared<const std::vector<Identity>>(
      store_.read([&](store::Repositories& r) { return r.identities.list_for_user(user_id); }));
  identities_.fill(user_id, list, epoch);
  return list;
}

Status ExternalLogin::unlink(const identity::User& user, const std::string& provider) {
  return store_.write([&](store::Repositories& r) -> Status {
    auto linked = r.identities.list_for_user(user.id);
    auto it = std::ranges::find_if(linked, [&](const Identity& i) { return i.provider == provider; });
    if (it == linked.end()) return fail(Error::not_found("identity_not_found", "No identity of this provider is linked to you."));
    auto current = r.users.find(user.project_id, user.id);
    bool password_login = current && current->has_password && (current->email || current->login || current->phone);
    if (linked.size() == 1 && !password_login)
      return fail(Error::conflict("last_login_method",
                                  "This is your only way to log in: set a password or link another provider first."));
    r.identities.remove(user.id, provider);
    r.changes.invalidate(store::Topic::identities, user.id);
    return {};
  });
}

std::string ExternalLogin::issue_code(const SignedIn& signed_in, const std::string& provider,
                                      const std::optional<std::string>& code_challenge) {
  std::string code = crypto::make_token(crypto::kLoginCodePrefix);
  Timestamp now = clock_.now();
  LoginCode row{signed_in.user.project_id, signed_in.user.id, signed_in.created, provider, code_challenge, now + code_ttl_, now};
  store_.write([&](store::Repositories& r) { r.flows.insert_code(crypto::token_hash(code), row); });
  return code;
}

Result<SignedIn> ExternalLogin::redeem_code(const std::optional<std::string>& project_id, const std::string& code,
                                            const std::optional<std::string>& code_verifier) {
  if (!crypto::token_well_formed(code, crypto::kLoginCodePrefix)) return fail(invalid_code());
  auto row = store_.write([&](store::Repositories& r) { return r.flows.consume_code(crypto::token_hash(code)); });
  if (!row || (project_id && row->project_id != *project_id) || row->expires_at <= clock_.now()) return fail(invalid_code());
  if (row->code_challenge &&
      (!code_verifier || !crypto::constant_time_equal(crypto::pkce_s256(*code_verifier), *row->code_challenge)))
    return fail(invalid_code());
  auto user = users_.get(row->project_id, row->user_id);
  if (!user) return fail(invalid_code());
  if (!user->active) return fail(user_inactive());
  return SignedIn{*user, row->user_created, row->provider};
}

}  // namespace tessera::external
