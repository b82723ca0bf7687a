// Threads that must never wait (the I/O threads, when the store's driver blocks) are marked. A blocking
// call made on one throws WouldBlock before it does anything, so that its caller can run the work again
// where waiting is allowed (http::Server: the handler pool). Not a std::exception: nothing may take it
// for a failure.
#pragma once

namespace tessera {

struct WouldBlock {};

namespace detail {
inline thread_local bool blocking_forbidden = false;
}

inline void forbid_blocking_on_this_thread() { detail::blocking_forbidden = true; }

inline void check_may_block() {
  if (detail::blocking_forbidden) throw WouldBlock{};
}

}  // namespace tessera
