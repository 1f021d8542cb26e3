// asynccontextmanager, contextlib.asynccontextmanager with CPython 3.13's exit rules (what aexit
// does for each thing the generator can do with the exception thrown into it: suppress it, let it
// through, replace it, or yield again): twins of async_generator's test_util.py and of CPython's
// test_contextlib_async.py. The managers are driven from a generator body (`async_with(cm, co,
// block)`), from an asio::spawn coroutine (`async_with(cm, yield, block)`), from callbacks
// (`async_with(cm, handler, block(v, done))`), and by calling `aenter` and `aexit` directly, as
// CPython's tests call __aenter__ and __aexit__. Messages are CPython 3.13's ("generator didn't
// yield"...), not the package's.
//
// No twin:
// - The StopIteration parts of test_contextmanager_do_not_unchain_non_stopiteration_exceptions
//   (StopIteration through a manager, and the package's double wrapping of it): C++ has no
//   StopIteration, there being no synchronous generators; the double wrapping comes from the
//   package's `await yield_()` trick, a bottom-level @types.coroutine generator, which has no
//   counterpart on a fiber. The twin of
//   test_native_contextmanager_do_not_unchain_non_stopiteration_exceptions keeps only its
//   StopAsyncIteration half.
// - test_asynccontextmanager_nice_message_on_sync_enter (a plain `with` on an async manager gives
//   a "use 'async with'" error): C++ has no synchronous `with` statement; a manager has no enter(),
//   only aenter(token).
// - test_asynccontextmanager_requires_asyncgenfunction (decorating something that is not an async
//   generator function): refused at compile time by a static_assert in asynccontextmanager, proven
//   by the project's compile-fail test.
// - test_contextmanager_non_normalised's non-normalised exception (`__aexit__(RuntimeError, None,
//   None)`): a C++ exception is always an object; the twin keeps the rest of the test, a generator
//   replacing the exception.
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#include <chrono>
#include <functional>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

// Python's exception classes the twinned tests raise, and CPython's StopAsyncIterationSubclass.
struct zero_division_error : std::domain_error {
  explicit zero_division_error(int a = 0) : std::domain_error("division by zero"), arg(a) {}
  int arg;  // ZeroDivisionError(999).args[0]
};
struct value_error : std::invalid_argument { value_error() : std::invalid_argument("ValueError") {} };
struct key_error : std::out_of_range { key_error() : std::out_of_range("KeyError") {} };
struct syntax_error : std::logic_error { syntax_error() : std::logic_error("SyntaxError") {} };
struct name_error : std::logic_error { using std::logic_error::logic_error; };
struct stop_subclass : ag::stop_async_iteration { using ag::stop_async_iteration::stop_async_iteration; };

// What test_keywords's woohoo yields: its arguments.
struct keywords {
  int self;
  std::function<int(int)> func;
  std::vector<int> args;
  std::string kwds;
};

// `@asynccontextmanager async def f(...)`: the body yields an int once.
template <class Body>
auto acm(Body body) {
  return ag::asynccontextmanager(ag::make_generator_function<int>(std::move(body)));
}

// Python's `await asyncio.sleep(0.001)`, from a generator body or a spawned coroutine.
template <class Token>
void sleep_briefly(const Token& token) {
  asio::steady_timer timer(token.get_executor(), std::chrono::milliseconds(1));
  timer.async_wait(token);
}

// Python's noop_async_context_manager (whee, woohoo...): `yield` and nothing else.
const auto noop = acm([](ag::context<int> co) { ag::yield_(co); });

// Python's manager_issue29692: `except Exception as exc: raise RuntimeError('issue29692:Chained')
// from exc`, where `raise_from()` spells the `raise ... from exc`.
template <class RaiseFrom>
auto manager_issue29692(RaiseFrom raise_from) {
  return acm([raise_from](ag::context<int> co) {
    try {
      ag::yield_(co);
    } catch (const std::exception&) {
      raise_from();
    }
  });
}
void chained_with_cause() { throw ag::runtime_error("issue29692:Chained", std::current_exception()); }
void chained_nested_std() { std::throw_with_nested(std::runtime_error("issue29692:Chained")); }
void chained_nested_ag() { std::throw_with_nested(ag::runtime_error("issue29692:Chained")); }

// The three ways of running `async with cm as v: block(v)`.
enum class way { generator, spawn, callback };
#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
const way all_ways[] = {way::generator, way::spawn, way::callback};
#else
const way all_ways[] = {way::generator, way::callback};
#endif
const char* name_of(way w) { return w == way::generator ? "generator body" : w == way::spawn ? "asio::spawn" : "callbacks"; }

// Runs `async with cm as v:` whose block raises what `block(v)` returns (nothing if null) until it
// ends, in way `w`; returns the exception that comes out of the `async with`, or null.
template <class Manager, class Block>
std::exception_ptr with_block(asio::io_context& io, way w, Manager cm, Block block) {
  std::exception_ptr out;
  auto on_fiber = [&](int& v) {
    std::exception_ptr raised = block(v);
    if (raised) std::rethrow_exception(raised);
  };
  if (w == way::generator) {
    auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
      try {
        ag::async_with(cm, co, on_fiber);
      } catch (...) {
        out = std::current_exception();
      }
    });
    CHECK(is_stop(anext(io, g).error));
#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
  } else if (w == way::spawn) {
    run_spawned(io, [&](asio::yield_context yield) {
      try {
        ag::async_with(cm, yield, on_fiber);
      } catch (...) {
        out = std::current_exception();
      }
    });
#endif
  } else {
    bool done = false;
    auto handler = [&](std::exception_ptr e) { out = e, done = true; };
    ag::async_with(cm, handler, [&](int& v, auto block_done) { block_done(block(v)); });
    drive(io, done);
  }
  return out;
}

// Python's `await cm.__aenter__()` and `await cm.__aexit__(...)`, with callbacks.
template <class Manager>
outcome<int> aenter(asio::io_context& io, Manager& cm) {
  return complete(io, [&](auto h) { cm.aenter(h); });
}
struct exit_result {
  std::exception_ptr error;
  bool suppress;
};
template <class Manager>
exit_result aexit(asio::io_context& io, Manager& cm, std::exception_ptr error) {
  exit_result r{nullptr, true};
  bool done = false;
  cm.aexit(std::move(error), [&](std::exception_ptr e, bool suppress) { r = {e, suppress}, done = true; });
  drive(io, done);
  return r;
}

// True when the manager's generator is finished (Python's `not ctx.gen.ag_suspended` after an exit).
template <class Manager>
bool finished(asio::io_context& io, Manager& cm) {
  return is_stop(anext(io, cm.gen()).error);
}

}  // namespace

// async_generator's test_util.py

TEST_CASE("test_contextmanager_do_not_unchain_non_stopiteration_exceptions: a runtime_error the generator raises from the block's exception propagates, caused by it") {
  asio::io_context io;
  const auto zero = std::make_exception_ptr(zero_division_error());
  const std::exception_ptr e = with_block(io, way::spawn, manager_issue29692(chained_with_cause)(io), [&](int) { return zero; });
  CHECK(message_of<ag::runtime_error>(e) == "issue29692:Chained");
  CHECK(ag::cause_of(e) == zero);
}

TEST_CASE("test_contextmanager_do_not_unchain_non_stopiteration_exceptions: the stop_async_iteration the generator wraps is unwrapped: the original comes out, uncaused") {
  asio::io_context io;
  const auto stop = std::make_exception_ptr(ag::stop_async_iteration(std::string("issue29692:Unchained")));
  const std::exception_ptr e = with_block(io, way::generator, manager_issue29692(chained_with_cause)(io), [&](int) { return stop; });
  CHECK(e == stop);  // the same object
  CHECK(stop_value_of<std::string>(e) == "issue29692:Unchained");
  CHECK(ag::cause_of(e) == nullptr);
  // The same, __aexit__ called directly: (null, false), the original is not suppressed.
  auto cm = manager_issue29692(chained_with_cause)(io);
  REQUIRE(!aenter(io, cm).error);
  const exit_result r = aexit(io, cm, stop);
  CHECK(r.error == nullptr);
  CHECK_FALSE(r.suppress);
}

TEST_CASE("test_native_contextmanager_do_not_unchain_non_stopiteration_exceptions: with `raise from` spelt std::throw_with_nested, the same two rules hold") {
  // There is one kind of generator here; what the Python test varies, the generator, becomes the other spelling
  // of `raise RuntimeError(...) from exc`. Its StopIteration half has no C++ meaning.
  asio::io_context io;
  const auto zero = std::make_exception_ptr(zero_division_error());
  const std::exception_ptr e = with_block(io, way::callback, manager_issue29692(chained_nested_std)(io), [&](int) { return zero; });
  CHECK(message_of<std::runtime_error>(e) == "issue29692:Chained");
  CHECK(message_of<ag::runtime_error>(e).find("<another exception") == 0);  // not an ag::runtime_error
  CHECK(ag::cause_of(e) == zero);
  const auto stop = std::make_exception_ptr(ag::stop_async_iteration(std::string("issue29692:Unchained")));
  CHECK(with_block(io, way::callback, manager_issue29692(chained_nested_std)(io), [&](int) { return stop; }) == stop);
  // An ag::runtime_error thrown with_nested (its own cause empty) is unwrapped just the same.
  CHECK(with_block(io, way::callback, manager_issue29692(chained_nested_ag)(io), [&](int) { return stop; }) == stop);
  CHECK(ag::cause_of(stop) == nullptr);
}

TEST_CASE("test_asynccontextmanager_exception_passthrough: a manager that only yields lets stop_async_iteration, runtime_error and value_error through unchanged, and exits normally") {
  asio::io_context io;
  for (way w : all_ways) {
    CAPTURE(name_of(w));
    for (std::exception_ptr raised : {std::make_exception_ptr(ag::stop_async_iteration()),
                                      std::make_exception_ptr(ag::runtime_error("RuntimeError")), std::make_exception_ptr(value_error())}) {
      CHECK(with_block(io, w, noop(io), [&](int) { return raised; }) == raised);
    }
    // A boring nothing pass-through.
    bool ran = false;
    const std::exception_ptr e = with_block(io, w, noop(io), [&](int v) {
      CHECK(v == 0);
      ran = true;
      return std::exception_ptr();
    });
    CHECK(e == nullptr);
    CHECK(ran);
  }
}

TEST_CASE("test_asynccontextmanager_catches_exception: the generator catches the block's value_error at its yield and ends: suppressed") {
  asio::io_context io;
  bool caught = false;
  const auto catch_it = acm([&caught](ag::context<int> co) {
    try {
      ag::yield_(co);
    } catch (const value_error&) {
      caught = true;
    }
  });
  CHECK(with_block(io, way::callback, catch_it(io), [](int) { return std::make_exception_ptr(value_error()); }) == nullptr);
  CHECK(caught);
}

TEST_CASE("test_asynccontextmanager_different_exception: the generator turns the block's key_error into a value_error, which propagates") {
  asio::io_context io;
  const auto switch_it = acm([](ag::context<int> co) {
    try {
      ag::yield_(co);
    } catch (const key_error&) {
      throw value_error();
    }
  });
  const std::exception_ptr e = with_block(io, way::spawn, switch_it(io), [](int) { return std::make_exception_ptr(key_error()); });
  CHECK(message_of<value_error>(e) == "ValueError");
}

TEST_CASE("test_asynccontextmanager_no_yield: a generator that ends without yielding makes aenter fail with \"generator didn't yield\"") {
  asio::io_context io;
  const auto yeehaw = acm([](ag::context<int> co) { sleep_briefly(co); });
  for (way w : {way::generator, way::callback}) {
    CAPTURE(name_of(w));
    bool ran = false;
    const std::exception_ptr e = with_block(io, w, yeehaw(io), [&](int) {
      ran = true;
      return std::exception_ptr();
    });
    CHECK(message_of<ag::runtime_error>(e) == "generator didn't yield");
    CHECK(ag::cause_of(e) == nullptr);  // `from None`
    CHECK_FALSE(ran);
  }
}

TEST_CASE("test_asynccontextmanager_too_many_yields: a second yield fails the exit with \"didn't stop\" (after athrow() on an exception), and the generator is closed") {
  asio::io_context io;
  int closed_count = 0;
  const auto doubleyield = acm([&closed_count](ag::context<int> co) {
    try {
      ag::yield_(co);
    } catch (const std::exception&) {
    }
    try {
      ag::yield_(co);
    } catch (...) {  // finally
      ++closed_count;
      throw;
    }
    ++closed_count;
  });
  // A normal exit.
  std::exception_ptr e = with_block(io, way::generator, doubleyield(io), [](int) { return std::exception_ptr(); });
  CHECK(message_of<ag::runtime_error>(e) == ag::errors::didnt_stop);
  CHECK(closed_count == 1);
  // An exceptional one.
  e = with_block(io, way::callback, doubleyield(io), [](int) { return std::make_exception_ptr(value_error()); });
  CHECK(message_of<ag::runtime_error>(e) == "generator didn't stop after athrow()");
  CHECK(closed_count == 2);
}

// CPython's test_contextlib_async.py

TEST_CASE("test_async_gen_propagates_generator_exit: aclose of a generator suspended in an async_with block goes through the manager's aexit, without error") {
  asio::io_context io;
  std::vector<std::string> events;
  const auto ctx = acm([&events](ag::context<int> co) {
    try {
      ag::yield_(co);
    } catch (const ag::generator_exit&) {
      events.push_back("ctx got generator_exit");
      throw;
    }
  });
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    ag::async_with(ctx(co.get_executor()), co, [&](int&) { ag::yield_(co, 11); });
    events.push_back("after async_with");
  });
#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
  run_spawned(io, [&](asio::yield_context yield) {
    for (int v : ag::aiter(g, yield)) {
      CHECK(v == 11);
      break;
    }
    g.aclose(yield);
  });
#else
  CHECK(anext(io, g).value == 11);
  CHECK(aclose(io, g) == nullptr);
#endif
  CHECK(events == std::vector<std::string>{"ctx got generator_exit"});
  CHECK(is_stop(anext(io, g).error));
}

TEST_CASE("test_contextmanager_plain: the block sees the yielded 42 between the code before and after the yield") {
  asio::io_context io;
  std::vector<int> state;
  const auto woohoo = acm([&state](ag::context<int> co) {
    state.push_back(1);
    sleep_briefly(co);
    ag::yield_(co, 42);
    sleep_briefly(co);
    state.push_back(999);
  });
  bool done = false;
  std::exception_ptr error;
  asio::steady_timer timer(io);
  auto handler = [&](std::exception_ptr e) { error = e, done = true; };
  ag::async_with(woohoo(io), handler, [&](int& x, auto block_done) {
    CHECK(state == std::vector<int>{1});
    CHECK(x == 42);
    state.push_back(x);
    // An asynchronous block: it ends when its timer does.
    timer.expires_after(std::chrono::milliseconds(1));
    timer.async_wait([block_done](ag::error_code) mutable { block_done(nullptr); });
  });
  drive(io, done);
  CHECK(error == nullptr);
  CHECK(state == std::vector<int>{1, 42, 999});
}

TEST_CASE("asynccontextmanager: on a normal exit, what the generator raises after its yield propagates") {
  asio::io_context io;
  const auto fails_on_exit = acm([](ag::context<int> co) {
    ag::yield_(co, 1);
    sleep_briefly(co);
    throw key_error();
  });
  CHECK(message_of<key_error>(with_block(io, way::spawn, fails_on_exit(io), [](int) { return std::exception_ptr(); })) == "KeyError");
  auto ctx = fails_on_exit(io);
  REQUIRE(aenter(io, ctx).value == 1);
  const exit_result r = aexit(io, ctx, nullptr);
  CHECK(message_of<key_error>(r.error) == "KeyError");
  CHECK_FALSE(r.suppress);
}

TEST_CASE("test_contextmanager_finally: the block's zero_division_error propagates after the generator's finally, which awaits") {
  asio::io_context io;
  std::vector<int> state;
  const auto woohoo = acm([&state](ag::context<int> co) {
    state.push_back(1);
    std::exception_ptr raised;
    try {
      ag::yield_(co, 42);
    } catch (...) {
      raised = std::current_exception();  // no await in a catch block: leave it first
    }
    sleep_briefly(co);
    state.push_back(999);
    if (raised) std::rethrow_exception(raised);
  });
  const auto zero = std::make_exception_ptr(zero_division_error());
  const std::exception_ptr e = with_block(io, way::generator, woohoo(io), [&](int x) {
    CHECK(state == std::vector<int>{1});
    CHECK(x == 42);
    state.push_back(x);
    return zero;
  });
  CHECK(e == zero);
  CHECK(state == std::vector<int>{1, 42, 999});
}

TEST_CASE("test_contextmanager_no_reraise: aexit with an exception the generator does not catch completes with (null, false)") {
  asio::io_context io;
  auto ctx = noop(io);
  REQUIRE(!aenter(io, ctx).error);
  const exit_result r = aexit(io, ctx, std::make_exception_ptr(ag::type_error("foo")));
  CHECK(r.error == nullptr);
  CHECK_FALSE(r.suppress);
  CHECK(finished(io, ctx));
}

TEST_CASE("test_contextmanager_trap_yield_after_throw: a generator that yields again after the exception fails aexit with \"generator didn't stop after athrow()\" and is closed") {
  asio::io_context io;
  bool closed = false;
  const auto whoo = acm([&closed](ag::context<int> co) {
    bool caught = false;
    try {
      ag::yield_(co);
    } catch (const std::exception&) {
      caught = true;
    }
    if (!caught) return;
    try {
      ag::yield_(co);
    } catch (const ag::generator_exit&) {
      closed = true;
      throw;
    }
  });
  auto ctx = whoo(io);
  REQUIRE(!aenter(io, ctx).error);
  const exit_result r = aexit(io, ctx, std::make_exception_ptr(ag::type_error("foo")));
  CHECK(message_of<ag::runtime_error>(r.error) == ag::errors::didnt_stop_after_athrow);
  CHECK_FALSE(r.suppress);
  CHECK(closed);
  CHECK(finished(io, ctx));
}

TEST_CASE("test_contextmanager_trap_no_yield: aenter of a generator that does not yield fails with \"generator didn't yield\"") {
  asio::io_context io;
  const auto whoo = acm([](ag::context<int>) {});
  auto ctx = whoo(io);
  const outcome<int> o = aenter(io, ctx);
  CHECK(message_of<ag::runtime_error>(o.error) == ag::errors::didnt_yield);
  CHECK(ag::cause_of(o.error) == nullptr);
}

TEST_CASE("test_contextmanager_trap_second_yield: aexit without an exception of a generator that yields twice fails with \"generator didn't stop\" and closes it") {
  asio::io_context io;
  const auto whoo = acm([](ag::context<int> co) {
    ag::yield_(co);
    ag::yield_(co);
  });
  auto ctx = whoo(io);
  REQUIRE(!aenter(io, ctx).error);
  const exit_result r = aexit(io, ctx, nullptr);
  CHECK(message_of<ag::runtime_error>(r.error) == "generator didn't stop");
  CHECK_FALSE(r.suppress);
  CHECK(finished(io, ctx));

  // When the generator yields even on that close, the close's error replaces "didn't stop" (the
  // `finally: await self.gen.aclose()` of CPython 3.13).
  const auto keeps_yielding = acm([](ag::context<int> co) {
    ag::yield_(co);
    try {
      ag::yield_(co);
    } catch (const ag::generator_exit&) {
    }
    ag::yield_(co);
  });
  auto ctx2 = keeps_yielding(io);
  REQUIRE(!aenter(io, ctx2).error);
  const exit_result r2 = aexit(io, ctx2, nullptr);
  CHECK(message_of<ag::runtime_error>(r2.error) == ag::errors::ignored_generator_exit);
  CHECK_FALSE(r2.suppress);
}

TEST_CASE("test_contextmanager_non_normalised: aexit with an exception the generator replaces by another completes with that other one") {
  asio::io_context io;
  const auto whoo = acm([](ag::context<int> co) {
    try {
      ag::yield_(co);
    } catch (const std::runtime_error&) {
      throw syntax_error();
    }
  });
  auto ctx = whoo(io);
  REQUIRE(!aenter(io, ctx).error);
  const exit_result r = aexit(io, ctx, std::make_exception_ptr(ag::runtime_error("RuntimeError")));
  CHECK(message_of<syntax_error>(r.error) == "SyntaxError");
  CHECK_FALSE(r.suppress);
}

TEST_CASE("test_contextmanager_except: the generator catches the block's zero_division_error(999) and ends: suppressed") {
  asio::io_context io;
  std::vector<int> state;
  const auto woohoo = acm([&state](ag::context<int> co) {
    state.push_back(1);
    try {
      ag::yield_(co, 42);
    } catch (const zero_division_error& e) {
      state.push_back(e.arg);
      CHECK(state == std::vector<int>{1, 42, 999});
    }
  });
  const std::exception_ptr e = with_block(io, way::spawn, woohoo(io), [&](int x) {
    CHECK(state == std::vector<int>{1});
    CHECK(x == 42);
    state.push_back(x);
    return std::make_exception_ptr(zero_division_error(999));
  });
  CHECK(e == nullptr);
  CHECK(state == std::vector<int>{1, 42, 999});
  // The same exit called directly completes with (null, true).
  state.clear();
  auto ctx = woohoo(io);
  REQUIRE(aenter(io, ctx).value == 42);
  state.push_back(42);
  const exit_result r = aexit(io, ctx, std::make_exception_ptr(zero_division_error(999)));
  CHECK(r.error == nullptr);
  CHECK(r.suppress);
}

TEST_CASE("test_contextmanager_except_stopiter: a stop_async_iteration, or an object of a subclass, raised in the block comes out as the same object, never suppressed") {
  asio::io_context io;
  for (way w : all_ways) {
    CAPTURE(name_of(w));
    for (std::exception_ptr stop_exc : {std::make_exception_ptr(ag::stop_async_iteration(std::string("ham"))),
                                        std::make_exception_ptr(stop_subclass(std::string("spam")))}) {
      const std::exception_ptr e = with_block(io, w, noop(io), [&](int) { return stop_exc; });
      CHECK(e == stop_exc);
    }
  }
  // aexit on a manager never entered: athrow finishes the unstarted generator with the exception
  // itself, the same object, which is not suppressed.
  auto ctx = noop(io);
  const exit_result r = aexit(io, ctx, std::make_exception_ptr(ag::stop_async_iteration()));
  CHECK(r.error == nullptr);
  CHECK_FALSE(r.suppress);
}

TEST_CASE("test_contextmanager_wrap_runtimeerror: the generator's runtime_error raised from the block's exception propagates, unless it wraps a stop_async_iteration") {
  asio::io_context io;
  const auto woohoo = acm([](ag::context<int> co) {
    try {
      ag::yield_(co);
    } catch (const std::exception& exc) {
      throw ag::runtime_error(std::string("caught ") + exc.what(), std::current_exception());
    }
  });
  const auto zero = std::make_exception_ptr(zero_division_error());
  const std::exception_ptr e = with_block(io, way::callback, woohoo(io), [&](int) { return zero; });
  CHECK(message_of<ag::runtime_error>(e) == "caught division by zero");
  CHECK(ag::cause_of(e) == zero);
  const auto stop = std::make_exception_ptr(ag::stop_async_iteration());
  CHECK(with_block(io, way::callback, woohoo(io), [&](int) { return stop; }) == stop);
}

TEST_CASE("test_keywords and test_contextmanager_attribs: arguments of any type reach the body, and wrapped() is the generator function") {
  asio::io_context io;
  const auto body = [](ag::context<keywords> co, int self, std::function<int(int)> func, std::vector<int> args, std::string kwds) {
    ag::yield_(co, keywords{self, std::move(func), std::move(args), std::move(kwds)});
  };
  const auto fn = ag::make_generator_function<keywords>(body);
  const auto woohoo = ag::asynccontextmanager(fn);
  bool ran = false;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    ag::async_with(woohoo(io, 11, [](int x) { return x + 22; }, std::vector<int>{33}, std::string("44")), co, [&](keywords& target) {
      CHECK(target.self == 11);
      CHECK(target.func(0) == 22);
      CHECK(target.args == std::vector<int>{33});
      CHECK(target.kwds == "44");
      ran = true;
    });
  });
  CHECK(is_stop(anext(io, g).error));
  CHECK(ran);
  // Python's __wrapped__ is the generator function itself; the manager's generator (Python's `gen`
  // attribute) is of the type it makes.
  static_assert(std::is_same<decltype(woohoo.wrapped()), const decltype(fn)&>::value, "wrapped() is the generator function");
  using manager = std::decay<decltype(woohoo)>::type::manager_type;
  static_assert(std::is_same<decltype(std::declval<manager&>().gen()), std::decay<decltype(fn)>::type::generator_type&>::value,
                "gen() is the generator");
}

TEST_CASE("test_decorator and test_decorator_with_exception: a function that enters a new manager around its body on every call") {
  // @context() on an async def has no C++ syntax; its twin is a function that does async_with with a
  // manager made by each call.
  asio::io_context io;
  bool entered = false;
  int made = 0;
  const auto context = acm([&](ag::context<int> co) {
    ++made;
    entered = true;
    try {
      ag::yield_(co);
    } catch (...) {  // finally
      entered = false;
      throw;
    }
    entered = false;
  });
  // @context() async def test(): assert entered; raise what it is told to
  auto test = [&](ag::context<int> co, std::exception_ptr raise) {
    ag::async_with(context(co.get_executor()), co, [&](int&) {
      CHECK(entered);
      if (raise) std::rethrow_exception(raise);
    });
  };
  std::exception_ptr raised;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    CHECK_FALSE(entered);
    test(co, nullptr);
    CHECK_FALSE(entered);
    test(co, nullptr);  // a reused generator would not yield again
    try {
      test(co, std::make_exception_ptr(name_error("foo")));
    } catch (const name_error&) {
      raised = std::current_exception();
    }
    CHECK_FALSE(entered);
  });
  CHECK(is_stop(anext(io, g).error));
  CHECK(message_of<name_error>(raised) == "foo");
  CHECK(made == 3);
}

TEST_CASE("test_decorating_method: a member function that enters a new manager around its body passes its arguments through") {
  asio::io_context io;
  struct test_class {
    int a = 0, b = 0, c = 0;
    // @context() async def method(self, a, b, c=None), with -1 for None
    void method(asio::io_context& io, int a_, int b_, int c_ = -1) {
      CHECK(with_block(io, way::callback, noop(io), [&](int) {
              a = a_, b = b_, c = c_;
              return std::exception_ptr();
            }) == nullptr);
    }
  } test;
  test.method(io, 1, 2);
  CHECK((test.a == 1 && test.b == 2 && test.c == -1));
  test.method(io, 'a', 'b', 'c');
  CHECK((test.a == 'a' && test.b == 'b' && test.c == 'c'));
}

TEST_CASE("test_recursive: a function entering a new manager around a call of itself, 10 deep: 10 independent managers") {
  asio::io_context io;
  int depth = 0;
  int ncols = 0;
  const auto woohoo = acm([&](ag::context<int> co) {
    ++ncols;
    const int before = depth;
    ++depth;
    ag::yield_(co);
    --depth;
    CHECK(depth == before);
  });
  // @woohoo() async def recursive(): if depth < 10: await recursive()
  std::function<void(ag::context<int>)> recursive = [&](ag::context<int> co) {
    ag::async_with(woohoo(co.get_executor()), co, [&](int&) {
      if (depth < 10) recursive(co);
    });
  };
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) { recursive(co); });
  CHECK(is_stop(anext(io, g).error));
  CHECK(ncols == 10);
  CHECK(depth == 0);
}

TEST_CASE("aexit with an exception on a manager whose generator is already closed fails with \"generator didn't stop after athrow()\", as CPython does, not suppressing it as the package did") {
  asio::io_context io;
  auto ctx = noop(io);
  REQUIRE(!aenter(io, ctx).error);
  REQUIRE(!aclose(io, ctx.gen()));
  const exit_result r = aexit(io, ctx, std::make_exception_ptr(value_error()));
  CHECK(message_of<ag::runtime_error>(r.error) == "generator didn't stop after athrow()");
  CHECK_FALSE(r.suppress);
}
