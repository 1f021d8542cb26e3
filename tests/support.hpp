// Test support: run one generator operation to completion on an io_context and get its outcome,
// plus the small generators, trackers and runners several test files share.
#ifndef ASYNC_GENERATOR_TESTS_SUPPORT_HPP
#define ASYNC_GENERATOR_TESTS_SUPPORT_HPP

#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <doctest/doctest.h>

#include <exception>
#include <string>
#include <thread>
#include <typeinfo>
#include <utility>
#include <vector>

namespace ag = async_generator;

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

// True when `e` is a stop_async_iteration that carries no return value.
inline bool is_empty_stop(const std::exception_ptr& e) {
  if (!is_stop(e)) return false;
  try {
    std::rethrow_exception(e);
  } catch (const ag::stop_async_iteration& s) {
    return !s.has_value();
  }
}

// The return value carried by the stop_async_iteration `e` ("no value"/"not a stop" otherwise).
template <class R>
std::string stop_value_of(const std::exception_ptr& e) {
  if (!is_stop(e)) return "not a stop: " + ag::describe_exception(e);
  try {
    std::rethrow_exception(e);
  } catch (const ag::stop_async_iteration& s) {
    if (!s.has_value()) return "no value";
    return s.value<R>();
  }
}

// Collects what the unraisable hook receives while alive.
struct unraisable_log {
  std::vector<std::string> entries;
  ag::unraisablehook_type previous;
  unraisable_log() {
    previous = ag::set_unraisablehook([this](const ag::unraisable& u) { entries.push_back(ag::describe_exception(u.exception)); });
  }
  ~unraisable_log() { ag::set_unraisablehook(std::move(previous)); }
};

// A generator yielding 0, 1, ..., n - 1 (Python's `async def arange(n): for i in range(n): yield i`).
inline ag::async_generator<int> async_range(asio::io_context& io, int n) {
  return ag::make_async_generator<int>(io, [n](ag::context<int> co) {
    for (int i = 0; i < n; ++i) ag::yield_(co, i);
  });
}

// Every value `g` yields, through anext with a callback, until stop_async_iteration.
template <class G>
std::vector<int> collect(asio::io_context& io, G& g) {
  std::vector<int> got;
  for (;;) {
    outcome<int> o = anext(io, g);
    if (o.error) {
      CHECK(is_stop(o.error));
      return got;
    }
    got.push_back(o.value);
  }
}

// An io_context whose dropped generators are closed synchronously, on the dropping thread: Python
// with no event loop's hooks installed, where a drop's cleanup may not await.
struct sync_close_context : asio::io_context {
  sync_close_context() { ag::set_drop_policy(*this, ag::drop_policy::close_synchronously); }
};

// Counts live instances: put one in a body to see its stack unwound.
struct lifetime {
  static int& live() {
    static int n = 0;
    return n;
  }
  lifetime() { ++live(); }
  lifetime(const lifetime&) { ++live(); }
  lifetime& operator=(const lifetime&) = default;
  ~lifetime() { --live(); }
};

// Counts its destructions: one left in an abandoned body's frame never is destroyed.
struct destruction_counter {
  explicit destruction_counter(int& n) : destroyed(&n) {}
  destruction_counter(const destruction_counter&) = delete;
  destruction_counter& operator=(const destruction_counter&) = delete;
  ~destruction_counter() { ++*destroyed; }
  int* destroyed;
};

// Python's `while True: try: yield i except BaseException: pass`, which nothing can close.
template <class Context>
ag::async_generator<int> swallowing_everything(Context& io, int& swallowed, int& destroyed) {
  return ag::make_async_generator<int>(io, [&swallowed, &destroyed](ag::context<int> co) {
    destruction_counter local(destroyed);
    for (int i = 0;; ++i) {
      try {
        ag::yield_(co, i);
      } catch (...) {
        ++swallowed;
      }
    }
  });
}

// An io_context run by a thread of its own until this object is destroyed.
class io_thread {
 public:
  io_thread() : work_(asio::make_work_guard(io)), thread_([this] { io.run(); }) {}
  io_thread(const io_thread&) = delete;
  io_thread& operator=(const io_thread&) = delete;
  ~io_thread() {
    work_.reset();
    thread_.join();
  }
  asio::io_context io;

 private:
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::thread thread_;
};

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
// Runs `fn(yield)` as an asio::spawn coroutine on `io` until it ends; its exception is rethrown.
template <class Fn>
void run_spawned(asio::io_context& io, Fn fn) {
  std::exception_ptr error;
  bool done = false;
  asio::spawn(io, std::move(fn), [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  drive(io, done);
  if (error) std::rethrow_exception(error);
}
#endif

// An operation's outcome as text, to compare sequences of outcomes: the value yielded ("3"); "stop",
// or "stop <v>" when the end of iteration carries an R; "generator_exit"; "ok" for an aclose that
// succeeded; the message of any other exception.
inline std::string to_text(const std::string& s) { return s; }
template <class T>
std::string to_text(const T& v) {
  return std::to_string(v);
}
template <class R = int>
std::string error_text(const std::exception_ptr& e) {
  if (!e) return "ok";
  try {
    std::rethrow_exception(e);
  } catch (const ag::stop_async_iteration& s) {
    if (!s.has_value()) return "stop";
    try {
      return "stop " + to_text(s.value<R>());
    } catch (const std::bad_cast&) {
      return "stop <not the expected type>";
    }
  } catch (const ag::generator_exit&) {
    return "generator_exit";
  } catch (const std::exception& x) {
    return x.what();
  } catch (...) {
    return "<unknown exception>";
  }
}
template <class R = int, class T>
std::string text_of(const std::exception_ptr& e, const T& value) {
  return e ? error_text<R>(e) : to_text(value);
}
template <class R = int, class T>
std::string text_of(const outcome<T>& o) {
  return text_of<R>(o.error, o.value);
}

#endif
