// PEP 525's hooks (firstiter and finalizer, per thread): twins of async_generator 1.10's
// test_gc_hooks_interface and test_gc_hooks_behavior, and what a dropped generator does in each
// state.
//
// test_gc_hooks_interface's TypeError for a non-callable hook has no C++ twin: a hook is a
// std::function, so anything else does not compile.
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

// Restores this thread's hooks when the test ends.
struct hooks_guard {
  ag::asyncgen_hooks saved = ag::get_asyncgen_hooks();
  ~hooks_guard() { ag::set_asyncgen_hooks(saved.firstiter, saved.finalizer); }
};

// test_gc_hooks_behavior's agen(ident): yields 1, 2 and 3; the cleanup after yield 2 awaits
// ("mock_sleep"), the one after yield 3 does not ("unwind 3").
ag::async_generator<int> logging_range(asio::io_context& io, std::string name, std::vector<std::string>& log) {
  return ag::make_async_generator<int>(io, [name, &log](ag::context<int> co) {
    lifetime alive;
    log.push_back("yield 1 " + name);
    ag::yield_(co, 1);
    std::exception_ptr raised;
    try {
      log.push_back("yield 2 " + name);
      ag::yield_(co, 2);
      log.push_back("after yield 2 " + name);
    } catch (...) {
      raised = std::current_exception();  // the finally below awaits: not inside the catch block
    }
    log.push_back("mock_sleep " + name);
    asio::steady_timer timer(co.get_executor(), std::chrono::milliseconds(1));
    timer.async_wait(co);
    if (raised) std::rethrow_exception(raised);
    try {
      log.push_back("yield 3 " + name);
      ag::yield_(co, 3);
    } catch (...) {
      log.push_back("unwind 3 " + name);
      throw;
    }
    log.push_back("done " + name);
  });
}

ag::asyncgen_hook logging_hook(std::string what, std::vector<std::string>& log, std::vector<ag::generator_ref>* keep = nullptr) {
  return [what, &log, keep](ag::generator_ref g) {
    log.push_back(what);
    if (keep != nullptr) keep->push_back(std::move(g));
  };
}

}  // namespace

TEST_CASE("test_gc_hooks_interface: an omitted hook is kept, an empty one cleared, and each thread has its own") {
  hooks_guard guard;
  std::vector<std::string> log;
  auto one = logging_hook("one", log);
  auto two = logging_hook("two", log);
  auto names = [&] {
    log.clear();
    const ag::asyncgen_hooks h = ag::get_asyncgen_hooks();
    if (h.firstiter) h.firstiter(ag::generator_ref());
    log.push_back("|");
    if (h.finalizer) h.finalizer(ag::generator_ref());
    std::string text;
    for (const auto& s : log) text += s;
    return text;
  };
  ag::set_asyncgen_hooks(nullptr, nullptr);
  CHECK(names() == "|");
  ag::set_asyncgen_hooks(ag::keep, two);
  CHECK(names() == "|two");
  ag::set_asyncgen_hooks(one);
  CHECK(names() == "one|two");
  ag::set_asyncgen_hooks(two, nullptr);
  CHECK(names() == "two|");
  ag::set_asyncgen_hooks(nullptr, one);
  CHECK(names() == "|one");
  const ag::asyncgen_hooks tup = ag::get_asyncgen_hooks();
  ag::set_asyncgen_hooks(tup.firstiter, tup.finalizer);
  CHECK(names() == "|one");

  std::string in_thread;
  std::thread([&] {
    const ag::asyncgen_hooks fresh = ag::get_asyncgen_hooks();
    in_thread = std::string(fresh.firstiter ? "firstiter" : "") + "|" + (fresh.finalizer ? "finalizer" : "");
    ag::set_asyncgen_hooks(two, two);
  }).join();
  CHECK(in_thread == "|");
  CHECK(names() == "|one");
}

TEST_CASE("test_gc_hooks_behavior: firstiter runs inside the first operation's call, before the body") {
  hooks_guard guard;
  asio::io_context io;
  std::vector<std::string> log;
  auto anext_verbosely = [&](ag::async_generator<int>& g, const std::string& id) {
    bool done = false;
    log.push_back("before anext " + id);
    g.anext([&](std::exception_ptr, int) { done = true; });
    log.push_back("before run " + id);
    drive(io, done);
    log.push_back("after anext " + id);
  };
  auto a = logging_range(io, "A", log);
  auto b = logging_range(io, "B", log);
  anext_verbosely(a, "A");  // first iterated before the hooks: never sees them
  ag::set_asyncgen_hooks(logging_hook("firstiter", log), nullptr);
  anext_verbosely(b, "B");
  auto c = logging_range(io, "C", log);
  anext_verbosely(c, "C");
  CHECK(log == std::vector<std::string>{"before anext A", "before run A", "yield 1 A", "after anext A",
                                        "before anext B", "firstiter", "before run B", "yield 1 B", "after anext B",
                                        "before anext C", "firstiter", "before run C", "yield 1 C", "after anext C"});
}

TEST_CASE("test_gc_hooks_behavior: two operations called before either runs give one firstiter") {
  hooks_guard guard;
  asio::io_context io;
  std::vector<std::string> log;
  ag::set_asyncgen_hooks(logging_hook("firstiter X", log), nullptr);
  auto x = logging_range(io, "X", log);
  x.anext([](std::exception_ptr, int) {});
  x.anext([](std::exception_ptr, int) {});
  log.push_back("before run");
  io.run();
  CHECK_FALSE(aclose(io, x));
  CHECK(log == std::vector<std::string>{"firstiter X", "before run", "yield 1 X", "yield 2 X", "mock_sleep X"});
}

TEST_CASE("test_gc_hooks_behavior: with no finalizer captured, a drop unwinds synchronously") {
  hooks_guard guard;
  sync_close_context io;
  std::vector<std::string> log;
  std::vector<std::string> finalized;
  {
    auto a = logging_range(io, "A", log);
    anext(io, a);  // hooks captured: none
    ag::set_asyncgen_hooks(nullptr, logging_hook("finalizer", finalized));
    log.clear();
    anext(io, a);
    anext(io, a);
  }
  CHECK(log == std::vector<std::string>{"yield 2 A", "after yield 2 A", "mock_sleep A", "yield 3 A", "unwind 3 A"});
  CHECK(finalized.empty());
  CHECK(lifetime::live() == 0);
}

TEST_CASE("test_gc_hooks_behavior: a captured finalizer is called instead of unwinding, once, and may aclose later") {
  hooks_guard guard;
  asio::io_context io;
  std::vector<std::string> log;
  std::vector<ag::generator_ref> to_finalize;
  ag::set_asyncgen_hooks(nullptr, [&](ag::generator_ref g) {
    log.push_back("finalizer");
    to_finalize.push_back(std::move(g));
  });
  const void* id_b = nullptr;
  const void* id_c = nullptr;
  {
    auto b = logging_range(io, "B", log);
    auto c = logging_range(io, "C", log);
    id_b = b.frame();
    id_c = c.frame();
    anext(io, b);
    anext(io, c);
    log.clear();
    anext(io, c);
    anext(io, b);
    anext(io, c);
    b = ag::async_generator<int>();
  }
  CHECK(log == std::vector<std::string>{"yield 2 C", "yield 2 B", "after yield 2 C", "mock_sleep C", "yield 3 C",
                                        "finalizer", "finalizer"});
  REQUIRE(to_finalize.size() == 2);
  CHECK(to_finalize[0].id() == id_b);
  CHECK(to_finalize[1].id() == id_c);
  CHECK(lifetime::live() == 2);  // resurrected, nothing unwound
  log.clear();
  for (auto& g : to_finalize) {
    bool done = false;
    g.aclose([&](std::exception_ptr e) {
      CHECK_FALSE(e);
      done = true;
    });
    drive(io, done);
  }
  CHECK(log == std::vector<std::string>{"mock_sleep B", "unwind 3 C"});
  to_finalize.clear();
  CHECK(lifetime::live() == 0);
  CHECK(log.size() == 2);  // the finalizer was not called again
}

TEST_CASE("a dropped generator goes to its finalizer only when it started and did not finish") {
  hooks_guard guard;
  asio::io_context io;
  std::vector<std::string> log;
  std::vector<ag::generator_ref> kept;
  ag::set_asyncgen_hooks(nullptr, logging_hook("finalizer", log, &kept));
  {
    bool ran = false;
    auto never_started = ag::make_async_generator<int, int>(io, [&](ag::context<int, int> co) {
      ran = true;
      ag::yield_(co, 1);
    });
    // The hooks are captured, but a refused send leaves it unstarted.
    CHECK(message_of<ag::type_error>(asend(io, never_started, 5).error) == ag::errors::send_to_unstarted);
    CHECK_FALSE(ran);
  }
  {
    auto finished = async_range(io, 1);
    anext(io, finished);
    CHECK(is_stop(anext(io, finished).error));
  }
  {
    auto closed = logging_range(io, "K", log);
    anext(io, closed);
    CHECK_FALSE(aclose(io, closed));
  }
  CHECK(std::count(log.begin(), log.end(), "finalizer") == 0);
  CHECK(kept.empty());
}

TEST_CASE("an exception a hook throws goes to the unraisable hook, and the operation goes on") {
  hooks_guard guard;
  asio::io_context io;
  unraisable_log unraisable;
  ag::set_asyncgen_hooks([](ag::generator_ref) { throw std::runtime_error("firstiter failed"); },
                         [](ag::generator_ref) { throw std::runtime_error("finalizer failed"); });
  {
    auto g = async_range(io, 3);
    CHECK(anext(io, g).value == 0);
  }
  REQUIRE(unraisable.entries.size() == 2);
  CHECK(unraisable.entries[0] == "std::runtime_error: firstiter failed");
  CHECK(unraisable.entries[1] == "std::runtime_error: finalizer failed");
}

TEST_CASE("the hooks of two threads are kept apart: each generator captures the hooks of the thread that first calls it") {
  hooks_guard guard;
  asio::io_context io;
  std::vector<std::string> main_log, other_log;
  ag::set_asyncgen_hooks(logging_hook("main firstiter", main_log), nullptr);
  auto here = async_range(io, 2);
  auto there = async_range(io, 2);
  std::thread([&] {
    ag::set_asyncgen_hooks(logging_hook("other firstiter", other_log), nullptr);
    there.anext([](std::exception_ptr, int) {});
  }).join();
  here.anext([](std::exception_ptr, int) {});
  io.run();
  CHECK(main_log == std::vector<std::string>{"main firstiter"});
  CHECK(other_log == std::vector<std::string>{"other firstiter"});
}

TEST_CASE("generator_ref refers to a generator: identity, executor, ag_running, and aclose") {
  hooks_guard guard;
  asio::io_context io;
  std::vector<ag::generator_ref> seen;
  ag::set_asyncgen_hooks([&](ag::generator_ref g) { seen.push_back(g); }, nullptr);
  auto g = async_range(io, 3);
  anext(io, g);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].id() == g.frame());
  CHECK(seen[0] == ag::generator_ref(seen[0]));
  CHECK(seen[0].get_executor() == g.get_executor());
  CHECK_FALSE(seen[0].ag_running());
  bool done = false;
  seen[0].aclose([&](std::exception_ptr e) {
    CHECK_FALSE(e);
    done = true;
  });
  drive(io, done);
  CHECK(is_stop(anext(io, g).error));
  CHECK_THROWS_AS(ag::generator_ref().get_executor(), ag::empty_generator_error);
}
