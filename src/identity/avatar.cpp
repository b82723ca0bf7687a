#include "identity/avatar.hpp"

#include <sodium.h>

#include "core/uuid.hpp"
#include "crypto/random.hpp"
#include "events/outbox.hpp"
#include "store/store.hpp"

namespace tessera::identity {

namespace {

Error user_gone() { return Error::not_found("user_not_found", "No user has this id in the project."); }

// Inside the write that changes the image: points avatar_url at it (or clears it), with its event and
// the eviction of the cached copies of the user on every node.
User set_avatar_url(store::Repositories& r, User current, const std::optional<std::string>& url, Timestamp now) {
  if (current.avatar_url == url) return current;  // the same image: the user is unchanged, no event
  r.users.set_avatar(current.id, url, now);
  r.changes.invalidate(store::Topic::users, current.id);
  User updated = r.users.find(current.project_id, current.id).value();
  events::record(r, now, {"user.updated", updated.project_id, {{"user", to_json(updated)}}});
  return updated;
}

}  // namespace

std::optional<std::string_view> sniff_image_type(std::string_view b) {
  using namespace std::string_view_literals;
  if (b.starts_with("\x89PNG\r\n\x1a\n"sv)) return "image/png";
  if (b.starts_with("\xff\xd8\xff"sv)) return "image/jpeg";
  if (b.size() >= 12 && b.starts_with("RIFF"sv) && b.substr(8, 4) == "WEBP"sv) return "image/webp";
  return std::nullopt;
}

std::string avatar_version(std::string_view bytes) {
  unsigned char out[16];
  crypto_generichash(out, sizeof out, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), nullptr, 0);
  return crypto::hex_encode(std::string_view(reinterpret_cast<const char*>(out), sizeof out));
}

std::string avatar_url(std::string_view public_url, std::string_view user_id, std::string_view version) {
  while (public_url.ends_with('/')) public_url.remove_suffix(1);
  return std::string(public_url) + "/v1/users/" + std::string(user_id) + "/avatar?v=" + std::string(version);
}

std::string avatar_etag(std::string_view version) {
  std::string etag;
  etag.reserve(version.size() + 2);
  etag.append(1, '"').append(version).append(1, '"');
  return etag;
}

Result<User> change_avatar(store::Store& store, const User& user, std::string_view image, std::string_view public_url,
                           Timestamp now) {
  if (image.size() > kMaxAvatarBytes)
    return fail(Error::make(413, "payload_too_large", "An avatar is at most 2 MiB."));
  auto type = sniff_image_type(image);
  if (!type) return fail(Error::make(415, "unsupported_media_type", "An avatar must be a PNG, JPEG or WebP image."));
  std::string version = avatar_version(image);
  std::string url = avatar_url(public_url, user.id, version);
  return store.write([&](store::Repositories& r) -> Result<User> {
    auto current = r.users.find(user.project_id, user.id);
    if (!current) return fail(user_gone());
    if (r.avatars.find_version(user.id) != version)
      r.avatars.put(user.id, {std::string(*type), version, std::string(image), now});
    return set_avatar_url(r, std::move(*current), url, now);
  });
}

std::optional<Avatar> find_avatar(store::Store& store, std::string_view user_id) {
  if (!is_uuid(user_id)) return std::nullopt;
  auto stored = store.read([&](store::Repositories& r) { return r.avatars.find(user_id); });
  if (!stored) return std::nullopt;
  return Avatar{std::move(stored->bytes), std::move(stored->content_type), avatar_etag(stored->version)};
}

std::optional<std::string> find_avatar_etag(store::Store& store, std::string_view user_id) {
  if (!is_uuid(user_id)) return std::nullopt;
  auto version = store.read([&](store::Repositories& r) { return r.avatars.find_version(user_id); });
  if (!version) return std::nullopt;
  return avatar_etag(*version);
}

Result<User> remove_avatar(store::Store& store, const User& user, Timestamp now) {
  return store.write([&](store::Repositories& r) -> Result<User> {
    auto current = r.users.find(user.project_id, user.id);
    if (!current) return fail(user_gone());
    r.avatars.remove(user.id);
    return set_avatar_url(r, std::move(*current), std::nullopt, now);
  });
}

}  // namespace tessera::identity
