// A license of a product, held by a user, activated on devices (docs/licenses.md).
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>

#include "core/clock.hpp"

namespace tessera::licenses {

struct License {
  std::string id;
  std::string project_id;
  std::string key;  // in clear only in memory: stored sealed
  std::optional<std::string> user_id;
  std::string product;
  std::optional<Timestamp> expires_at;
  int64_t max_activations = 1;
  bool suspended = false;
  int64_t activations = 0;  // seats in use
  boost::json::object metadata;
  Timestamp created_at;
  Timestamp updated_at;
};

struct Activation {
  std::string id;
  std::string license_id;
  std::string fingerprint;
  std::optional<std::string> hostname;
  Timestamp created_at;
  Timestamp last_activated_at;
};

}  // namespace tessera::licenses
