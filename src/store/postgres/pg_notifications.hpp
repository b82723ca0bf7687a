// The payload of a `tessera_changes` notification: "<node id>\n<topic>:<hex key>\n...", at most one
// NOTIFY payload (8000 bytes); an empty key stands for the whole topic.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "store/changes.hpp"

namespace tessera::store::postgres {

inline constexpr size_t kMaxNotificationPayload = 7900;

// Too many changes to name one by one (a bulk change) become one whole-topic change per topic.
std::string encode_changes(std::string_view node_id, const std::vector<Change>& changes);
// The changes another node announced; empty for this node's own (`own_node_id`) or a malformed payload.
std::vector<Change> decode_changes(std::string_view payload, std::string_view own_node_id);

}  // namespace tessera::store::postgres
