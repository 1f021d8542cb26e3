// Test support: run one generator operation to completion on an io_context and get its outcome.
#ifndef ASYNC_GENERATOR_TESTS_SUPPORT_HPP
#define ASYNC_GENERATOR_TESTS_SUPPORT_HPP

#include <async_generator.hpp>

#include <boost/asio/io_context.hpp>

#include <doctest/doctest.h>

#include <exception>
#include <string>
#include <vector>

namespace ag = async_generator;
namespace asio = boost::asio;

template <class T>
struct outcome {
  std::exception_ptr error;
  T value{};
};

// Runs `io` until the operation that sets `done` has completed.
inline void drive(asio::io_context& io, const bool& done) {
  io.restart();
  io.run();
  REQUIRE(done);
}

template <class Start>
auto complete(asio::io_context& io, Start start) {
  outcome<int> o;
  bool done = false;
  start([&](std::exception_ptr e, int v) {
    o.error = e;
    o.value = v;
    done = true;
  });
  drive(io, done);
  return o;
}

template <class G>
outcome<int> anext(asio::io_context& io, G& g) {
  return complete(io, [&](auto h) { g.anext(h); });
}
template <class G, class V>
outcome<int> asend(asio::io_context& io, G& g, V v) {
  return complete(io, [&](auto h) { g.asend(v, h); });
}
template <class G, class E>
outcome<int> athrow(asio::io_context& io, G& g, E e) {
  return complete(io, [&](auto h) { g.athrow(std::make_exception_ptr(e), h); });
}
template <class G>
std::exception_ptr aclose(asio::io_context& io, G& g) {
  std::exception_ptr error;
  bool done = false;
  g.aclose([&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  drive(io, done);
  return error;
}

// The message of `e` when it is an `E`; "" when `e` is null; a description otherwise.
template <class E>
std::string message_of(const std::exception_ptr& e) {
  if (!e) return "";
  try {
    std::rethrow_exception(e);
  } catch (const E& x) {
    return x.what();
  } catch (...) {
    return "<another exception: " + ag::describe_exception(e) + ">";
  }
}

inline bool is_stop(const std::exception_ptr& e) { return e && ag::detail::is_stop(e); }

// Collects what the unraisable hook receives while alive.
struct unraisable_log {
  std::vector<std::string> entries;
  ag::unraisablehook_type previous;
  unraisable_log() {
    previous = ag::set_unraisablehook([this](const ag::unraisable& u) { entries.push_back(ag::describe_exception(u.exception)); });
  }
  ~unraisable_log() { ag::set_unraisablehook(std::move(previous)); }
};

#endif
