// Conformance of async_generator<Y, S, R> with async_generator 1.10's own tests (its
// _tests/test_async_generator.py: iteration, re-entrance, asend, athrow, aclose, __del__ and the
// tests around them) and with native CPython 3.13 async generator semantics.
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// An asynchronous operation that completes, through the executor, with `value`.
template <class Token>
auto async_value(const asio::any_io_executor& ex, int value, Token&& token) {
  return asio::async_initiate<Token, void(int)>(
      [ex, value](auto handler) { asio::post(ex, [h = std::move(handler), value]() mutable { std::move(h)(value); }); },
      token);
}

struct has_async_gen_method {
  int factor;
  ag::async_generator<int> async_multiplied(asio::io_context& io, ag::async_generator<int>& ait) {
    return ag::make_async_generator<int>(io, [this, &ait](ag::context<int> co) {
      for (int x : ag::aiter(ait, co)) ag::yield_(co, x * factor);
    });
  }
};

}  // namespace

TEST_CASE("test_async_generator: ranges, a generator consuming another with an await between yields, methods") {
  asio::io_context io;
  auto r10 = async_range(io, 10);
  CHECK(collect(io, r10) == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});

  auto r5 = async_range(io, 5);
  auto doubled = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    asio::steady_timer timer(co.get_executor());
    for (int x : ag::aiter(r5, co)) {
      ag::yield_(co, 2 * x);
      timer.expires_after(std::chrono::milliseconds(0));
      timer.async_wait(co);
    }
  });
  CHECK(collect(io, doubled) == std::vector<int>{0, 2, 4, 6, 8});

  auto source = async_range(io, 5);
  has_async_gen_method obj{3};
  auto multiplied = obj.async_multiplied(io, source);
  CHECK(collect(io, multiplied) == std::vector<int>{0, 3, 6, 9, 12});
}

TEST_CASE("test_yield_no_arg: yield_(co) yields a value-initialised value") {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(io, [](ag::context<int> co) { ag::yield_(co); });
  CHECK(collect(io, g) == std::vector<int>{0});
}

TEST_CASE("test_bad_return_value: the return value rides on the first stop_async_iteration; breaking does not close") {
  asio::io_context io;
  auto g = ag::make_async_generator<int, void, std::string>(io, [](ag::context<int> co) -> std::string {
    ag::yield_(co, 1);
    ag::yield_(co, 2);
    return "hi";
  });
  CHECK(anext(io, g).value == 1);
  CHECK(anext(io, g).value == 2);
  outcome<int> end = anext(io, g);
  REQUIRE(is_stop(end.error));
  try {
    std::rethrow_exception(end.error);
  } catch (const ag::stop_async_iteration& e) {
    CHECK(e.value<std::string>() == "hi");
  }
  outcome<int> again = anext(io, g);
  REQUIRE(is_stop(again.error));
  try {
    std::rethrow_exception(again.error);
  } catch (const ag::stop_async_iteration& e) {
    CHECK_FALSE(e.has_value());
  }
}

TEST_CASE("test_yield_different_entries: awaits that complete with an error, a value or nothing never leak a yield") {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(io, [](ag::context<int> co) {
    asio::steady_timer timer(co.get_executor());
    ag::yield_(co, 1);
    try {
      timer.expires_after(std::chrono::hours(1));
      asio::post(co.get_executor(), [&] { timer.cancel(); });
      timer.async_wait(co);  // completes with operation_aborted: thrown here
    } catch (const ag::system_error& e) {
      CHECK(e.code() == asio::error::operation_aborted);
      ag::yield_(co, 2);
    }
    int sent = async_value(co.get_executor(), 1, co);  // completes with a value
    ag::yield_(co, 2 + sent);
    asio::post(co);
    ag::yield_(co, 4);
  });
  CHECK(collect(io, g) == std::vector<int>{1, 2, 3, 4});
}

TEST_CASE("test_reentrance_forbidden: a body iterating its own generator gets anext()'s already-running error") {
  asio::io_context io;
  ag::async_generator<int> g;
  g = ag::make_async_generator<int>(io, [&g](ag::context<int> co) {
    for (int x : ag::aiter(g, co)) ag::yield_(co, x);
  });
  outcome<int> o = anext(io, g);
  CHECK(message_of<ag::runtime_error>(o.error) == "anext(): asynchronous generator is already running");
}

TEST_CASE("test_reentrance_forbidden_simultaneous_asends: a second operation while the first waits fails") {
  asio::io_context io;
  auto g = ag::make_async_generator<int, int>(io, [](ag::context<int, int> co) {
    asio::post(co);  // a wait in the event loop
  });
  std::vector<std::string> events;
  g.anext([&](std::exception_ptr e, int) { events.push_back(is_stop(e) ? "s1 stop" : "s1 other"); });
  g.anext([&](std::exception_ptr e, int) { events.push_back("s2 " + message_of<ag::runtime_error>(e)); });
  io.run();
  CHECK(events == std::vector<std::string>{"s2 anext(): asynchronous generator is already running", "s1 stop"});
  CHECK_FALSE(aclose(io, g));
}

TEST_CASE("test_reentrance_forbidden_while_suspended_in_coroutine_runner: ag_running while the body awaits") {
  asio::io_context io;
  asio::steady_timer gate(io, std::chrono::hours(1));
  auto g = ag::make_async_generator<std::string, int>(io, [&](ag::context<std::string, int> co) {
    ag::error_code ec;
    gate.async_wait(co[ec]);
    ag::yield_(co, std::string("final yield"));
  });
  std::string first;
  g.anext([&](std::exception_ptr, std::string v) { first = v; });
  io.poll();
  CHECK(g.ag_running());
  std::string second;
  g.asend(1, [&](std::exception_ptr e, std::string) { second = message_of<ag::runtime_error>(e); });
  io.poll();
  CHECK(second == "anext(): asynchronous generator is already running");
  gate.cancel();
  io.run();
  CHECK(first == "final yield");
  CHECK_FALSE(g.ag_running());
}

TEST_CASE("test_asend: asend resumes yield_ with the value, anext with nothing") {
  asio::io_context io;
  std::vector<std::string> seen;
  auto g = ag::make_async_generator<int, int>(io, [&](ag::context<int, int> co) {
    auto a = ag::yield_(co, 1);
    seen.push_back(a ? std::to_string(*a) : "none");
    auto b = ag::yield_(co, 3);
    seen.push_back(b ? std::to_string(*b) : "none");
  });
  CHECK(anext(io, g).value == 1);
  CHECK(asend(io, g, 2).value == 3);
  CHECK(is_stop(asend(io, g, 4).error));
  CHECK(seen == std::vector<std::string>{"2", "4"});
}

TEST_CASE("test_athrow: an exception thrown in is caught at the yield, or propagates") {
  asio::io_context io;
  auto g = ag::make_async_generator<int>(io, [](ag::context<int> co) {
    try {
      ag::yield_(co, 1);
    } catch (const std::out_of_range&) {
      try {
        ag::yield_(co, 2);
      } catch (const std::invalid_argument&) {
        ag::yield_(co, 3);
      }
    }
  });
  CHECK(anext(io, g).value == 1);
  CHECK(athrow(io, g, std::out_of_range("oops")).value == 2);
  CHECK(athrow(io, g, std::invalid_argument("oops")).value == 3);
  CHECK(message_of<std::runtime_error>(athrow(io, g, std::runtime_error("oops")).error) == "oops");
  CHECK(is_stop(anext(io, g).error));
}

TEST_CASE("athrow with a null exception_ptr completes with type_error in every state and leaves the generator as it was") {
  asio::io_context io;
  auto inner = async_range(io, 3);
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    ag::yield_(co, 10);
    ag::yield_from_(co, inner);
  });
  auto null_athrow = [&] { return complete(io, [&](auto h) { g.athrow(std::exception_ptr(), h); }); };
  const std::string expected = "athrow(): nothing to throw: the exception_ptr is null";
  CHECK(message_of<ag::type_error>(null_athrow().error) == expected);  // unstarted
  CHECK(anext(io, g).value == 10);
  CHECK(message_of<ag::type_error>(null_athrow().error) == expected);  // suspended at a yield
  CHECK(anext(io, g).value == 0);
  CHECK(message_of<ag::type_error>(null_athrow().error) == expected);  // delegating
  CHECK(anext(io, g).value == 1);
  CHECK(anext(io, g).value == 2);
  CHECK(is_stop(anext(io, g).error));
  CHECK(message_of<ag::type_error>(null_athrow().error) == expected);  // finished
  std::string from_body;
  auto consumer = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    auto h = async_range(io, 2);
    CHECK(h.anext(co) == 0);
    try {
      h.athrow(std::exception_ptr(), co);
    } catch (const ag::type_error& e) {
      from_body = e.what();
    }
    ag::yield_(co, h.anext(co));
  });
  CHECK(anext(io, consumer).value == 1);
  CHECK(from_body == expected);
}

TEST_CASE("test_aclose: aclose raises generator_exit at the yield") {
  asio::io_context io;
  std::string track;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    try {
      ag::yield_(co, 1);
    } catch (const ag::generator_exit&) {
      track = "closed";
      throw;
    }
  });
  CHECK(anext(io, g).value == 1);
  CHECK_FALSE(aclose(io, g));
  CHECK(track == "closed");
}

TEST_CASE("test_aclose_on_unstarted_generator: the body never runs and iteration is over") {
  asio::io_context io;
  bool ran = false;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    ran = true;
    ag::yield_(co, 1);
  });
  CHECK_FALSE(aclose(io, g));
  CHECK(collect(io, g).empty());
  CHECK_FALSE(ran);
}

TEST_CASE("test_aclose_on_finished_generator: aclose is a no-op, twice") {
  asio::io_context io;
  auto g = async_range(io, 1);
  CHECK(collect(io, g) == std::vector<int>{0});
  CHECK_FALSE(aclose(io, g));
  CHECK_FALSE(aclose(io, g));
}

TEST_CASE("test_aclose_yielding: cleanup may await; a yield during aclose is 'async generator ignored GeneratorExit'") {
  asio::io_context io;
  bool cleaned = false;
  auto awaits = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    try {
      ag::yield_(co, 1);
    } catch (const ag::generator_exit&) {
      asio::steady_timer t(co.get_executor(), std::chrono::milliseconds(1));
      t.async_wait(co);
      cleaned = true;
      throw;
    }
  });
  CHECK(anext(io, awaits).value == 1);
  CHECK_FALSE(aclose(io, awaits));
  CHECK(cleaned);

  auto yields = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    try {
      ag::yield_(co, 1);
    } catch (const ag::generator_exit&) {
      ag::yield_(co, 2);
    }
  });
  CHECK(anext(io, yields).value == 1);
  CHECK(message_of<ag::runtime_error>(aclose(io, yields)) == "async generator ignored GeneratorExit");
  // Python leaves it suspended at the offending yield: the next aclose closes it for good.
  CHECK(message_of<ag::runtime_error>(aclose(io, yields)) == "");
}

TEST_CASE("test___del__: dropping a generator in each state") {
  unraisable_log log;
  {
    sync_close_context io;
    bool ran = false;
    auto unstarted = ag::make_async_generator<int>(io, [&](ag::context<int>) { ran = true; });
    unstarted = {};
    CHECK_FALSE(ran);

    auto exhausted = async_range(io, 1);
    collect(io, exhausted);
    exhausted = {};

    auto closed = async_range(io, 3);
    anext(io, closed);
    aclose(io, closed);
    closed = {};
    CHECK(log.entries.empty());
  }
  int finally_ran = 0;
  for (int stop_at = 1; stop_at <= 3; ++stop_at) {
    sync_close_context io;
    auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
      lifetime guard;
      ag::yield_(co, 1);
      try {
        ag::yield_(co, 2);
      } catch (...) {
        ++finally_ran;
        asio::post(co);  // awaits during finalization
        throw;
      }
      ag::yield_(co, 3);
    });
    for (int i = 0; i < stop_at; ++i) anext(io, g);
    g = {};
    CHECK(lifetime::live() == 0);
  }
  CHECK(finally_ran == 1);
  CHECK(log.entries == std::vector<std::string>{"RuntimeError: async generator ignored GeneratorExit"});
}

TEST_CASE("test___del__: a generator that yields while closed on drop is reported and unwound") {
  unraisable_log log;
  sync_close_context io;
  auto g = ag::make_async_generator<int>(io, [](ag::context<int> co) {
    lifetime guard;
    try {
      ag::yield_(co, 1);
    } catch (const ag::generator_exit&) {
      ag::yield_(co, 2);
    }
  });
  anext(io, g);
  g = {};
  CHECK(lifetime::live() == 0);
  CHECK(log.entries == std::vector<std::string>{"RuntimeError: async generator ignored GeneratorExit"});
}

TEST_CASE("test_refcnt: each yielded value is handed over exactly once, nothing leaks") {
  asio::io_context io;
  {
    auto g = ag::make_async_generator<std::shared_ptr<lifetime>>(io, [](ag::context<std::shared_ptr<lifetime>> co) {
      for (int i = 0; i < 100; ++i) ag::yield_(co, std::make_shared<lifetime>());
    });
    for (int i = 0; i < 100; ++i) {
      std::shared_ptr<lifetime> got;
      g.anext([&](std::exception_ptr, std::shared_ptr<lifetime> v) { got = std::move(v); });
      io.restart();
      io.run();
      CHECK(got.use_count() == 1);
    }
  }
  CHECK(lifetime::live() == 0);
}

TEST_CASE("test_throw_StopIteration_or_StopAsyncIteration: thrown in and not caught, it becomes a RuntimeError with a cause") {
  asio::io_context io;
  auto g = async_range(io, 5);
  anext(io, g);
  auto thrown = std::make_exception_ptr(ag::stop_async_iteration());
  outcome<int> o = complete(io, [&](auto h) { g.athrow(thrown, h); });
  REQUIRE(message_of<ag::runtime_error>(o.error) == "async generator raised StopAsyncIteration");
  try {
    std::rethrow_exception(o.error);
  } catch (const ag::runtime_error& e) {
    CHECK(e.cause() == thrown);
  }
  CHECK(is_stop(anext(io, g).error));
}

TEST_CASE("test_no_spurious_unawaited_coroutine_warning: a never-iterated generator is dropped silently") {
  unraisable_log log;
  asio::io_context io;
  { auto g = async_range(io, 3); }
  io.run();
  CHECK(log.entries.empty());
}
