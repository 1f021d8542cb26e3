// asyncgen_service.hpp, asyncio's loop hooks (CPython 3.13's base_events.py) in Asio's terms: a
// dropped generator's aclose scheduled on its executor, shutdown_asyncgens, the exception handler,
// the drop policy, and an execution context destroyed under live generators.
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

// Collects what the context's asyncgen exception handler receives.
struct handler_log {
  std::vector<ag::asyncgen_error> errors;
  explicit handler_log(asio::io_context& io) {
    ag::set_asyncgen_exception_handler(io, [this](const ag::asyncgen_error& e) { errors.push_back(e); });
  }
};

// A generator suspended at its first yield whose cleanup awaits a timer, then fails when `fail`.
struct cleanup_record {
  int started = 0;
  int cleanups = 0;
  int in_flight = 0;
  int max_in_flight = 0;
  bool on_io_thread = true;
};
ag::async_generator<int> awaiting_cleanup(asio::io_context& io, cleanup_record& record, bool fail = false) {
  return ag::make_async_generator<int>(io, [&record, &io, fail](ag::context<int> co) {
    lifetime alive;
    ++record.started;
    std::exception_ptr raised;
    try {
      ag::yield_(co, 1);
      ag::yield_(co, 2);
    } catch (...) {
      raised = std::current_exception();
    }
    record.max_in_flight = std::max(record.max_in_flight, ++record.in_flight);
    asio::steady_timer timer(co.get_executor(), std::chrono::milliseconds(2));
    timer.async_wait(co);
    --record.in_flight;
    ++record.cleanups;
    record.on_io_thread = record.on_io_thread && io.get_executor().running_in_this_thread();
    if (fail) throw std::runtime_error("cleanup failed");
    if (raised) std::rethrow_exception(raised);
  });
}

const std::string close_error_prefix = "an error occurred during closing of asynchronous generator <async_generator object at ";

}  // namespace

TEST_CASE("a generator dropped mid-iteration has its aclose run on its executor, and its cleanup may await") {
  asio::io_context io;
  cleanup_record record;
  {
    auto g = awaiting_cleanup(io, record);
    CHECK(anext(io, g).value == 1);
  }
  CHECK(record.cleanups == 0);  // scheduled, not run on the dropping thread
  CHECK(lifetime::live() == 1);
  io.restart();
  io.run();
  CHECK(record.cleanups == 1);
  CHECK(record.on_io_thread);
  CHECK(lifetime::live() == 0);
}

TEST_CASE("a generator dropped on another thread is closed on its own executor") {
  asio::io_context io;
  cleanup_record record;
  auto g = awaiting_cleanup(io, record);
  CHECK(anext(io, g).value == 1);
  std::thread([moved = std::move(g)]() mutable { moved = ag::async_generator<int>(); }).join();
  io.restart();
  io.run();
  CHECK(record.cleanups == 1);
  CHECK(record.on_io_thread);
  CHECK(lifetime::live() == 0);
}

TEST_CASE("the error of a dropped generator's close goes to the context's exception handler") {
  asio::io_context io;
  handler_log reports(io);
  cleanup_record record;
  const void* id = nullptr;
  {
    auto g = awaiting_cleanup(io, record, true);
    id = g.frame();
    anext(io, g);
  }
  io.restart();
  io.run();
  REQUIRE(reports.errors.size() == 1);
  CHECK(reports.errors[0].message.rfind(close_error_prefix, 0) == 0);
  CHECK(message_of<std::runtime_error>(reports.errors[0].exception) == "cleanup failed");
  CHECK(reports.errors[0].asyncgen.id() == id);
  reports.errors.clear();
  CHECK(lifetime::live() == 0);
}

TEST_CASE("shutdown_asyncgens closes 1000 live generators concurrently, reporting each failed cleanup once") {
  asio::io_context io;
  handler_log reports(io);
  cleanup_record record;
  std::vector<ag::async_generator<int>> live;
  for (int i = 0; i < 1000; ++i) {
    live.push_back(awaiting_cleanup(io, record, i % 10 == 0));
    live.back().anext([](std::exception_ptr, int) {});
  }
  io.run();
  REQUIRE(record.started == 1000);
  bool done = false;
  std::exception_ptr error;
  ag::shutdown_asyncgens(io, [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  CHECK_FALSE(done);
  drive(io, done);
  CHECK_FALSE(error);
  CHECK(record.cleanups == 1000);
  CHECK(record.max_in_flight == 1000);  // every cleanup waited on its timer at the same time
  CHECK(reports.errors.size() == 100);
  CHECK(std::all_of(reports.errors.begin(), reports.errors.end(), [](const ag::asyncgen_error& e) {
    return e.message.rfind(close_error_prefix, 0) == 0 && message_of<std::runtime_error>(e.exception) == "cleanup failed";
  }));
  live.clear();  // finished: nothing more happens
  io.restart();
  io.run();
  CHECK(record.cleanups == 1000);
  CHECK(lifetime::live() == 0);
}

namespace {
// A generator that swallows every exception, suspended at its first yield, with what reports it.
struct swallowing_generator {
  asio::io_context io;
  handler_log reports{io};
  unraisable_log log;
  int swallowed = 0;
  int destroyed = 0;
  ag::async_generator<int> g = swallowing_everything(io, swallowed, destroyed);
  swallowing_generator() { CHECK(anext(io, g).value == 0); }
};
}  // namespace

TEST_CASE("a body that swallows every exception is finalized by its scheduled close, then abandoned, both reported") {
  swallowing_generator s;
  s.g = {};  // its aclose is scheduled, and fails
  s.io.restart();
  s.io.run();
  CHECK(s.swallowed == 1);
  REQUIRE(s.reports.errors.size() == 1);
  CHECK(s.reports.errors[0].message.rfind(close_error_prefix, 0) == 0);
  CHECK(message_of<ag::runtime_error>(s.reports.errors[0].exception) == "async generator ignored GeneratorExit");
  s.reports.errors.clear();  // its last reference: it is closed again at once, synchronously
  CHECK(s.swallowed == 3);
  CHECK(s.destroyed == 0);
  CHECK(s.log.entries ==
        std::vector<std::string>{"RuntimeError: async generator ignored GeneratorExit",
                                 "async_generator::misuse_error: async generator body swallowed the library's stack "
                                 "unwinding (a catch (...) that does not rethrow) and suspended again; its stack was "
                                 "abandoned, not unwound: what its frames own is leaked"});
}

TEST_CASE("shutdown_asyncgens completes for a body that swallows every exception, its close error reported") {
  swallowing_generator s;
  bool done = false;
  std::exception_ptr error;
  ag::shutdown_asyncgens(s.io, [&](std::exception_ptr e) {
    error = e;
    done = true;
  });
  drive(s.io, done);
  CHECK_FALSE(error);
  REQUIRE(s.reports.errors.size() == 1);
  CHECK(message_of<ag::runtime_error>(s.reports.errors[0].exception) == "async generator ignored GeneratorExit");
  s.reports.errors.clear();
  s.g = {};
  CHECK(s.swallowed == 3);
  CHECK(s.destroyed == 0);
  CHECK(s.log.entries.size() == 2);
}

TEST_CASE("shutdown_asyncgens with no live generator completes outside the initiating function") {
  asio::io_context io;
  bool done = false;
  ag::shutdown_asyncgens(io, [&](std::exception_ptr e) {
    CHECK_FALSE(e);
    done = true;
  });
  CHECK_FALSE(done);
  drive(io, done);
}

TEST_CASE("a generator first iterated after shutdown_asyncgens is reported through the exception handler") {
  asio::io_context io;
  handler_log reports(io);
  bool done = false;
  ag::shutdown_asyncgens(io, [&](std::exception_ptr) { done = true; });
  drive(io, done);
  auto late = async_range(io, 2);
  CHECK(anext(io, late).value == 0);
  REQUIRE(reports.errors.size() == 1);
  CHECK(reports.errors[0].message ==
        "asynchronous generator " + late.frame()->description() + " was scheduled after shutdown_asyncgens() call");
  CHECK_FALSE(reports.errors[0].exception);
  CHECK(reports.errors[0].asyncgen.id() == late.frame());
}

TEST_CASE("with drop_policy::close_synchronously a dropped generator is closed at once, and its await refused") {
  asio::io_context io;
  CHECK(ag::set_drop_policy(io, ag::drop_policy::close_synchronously) == ag::drop_policy::schedule_aclose);
  unraisable_log unraisable;
  cleanup_record record;
  {
    auto g = awaiting_cleanup(io, record);
    anext(io, g);
  }
  CHECK(lifetime::live() == 0);
  CHECK(record.cleanups == 0);
  CHECK(unraisable.entries == std::vector<std::string>{"RuntimeError: async generator ignored GeneratorExit"});
}

TEST_CASE("a finalizer hook of the thread takes the place of the context's scheduled close, once") {
  asio::io_context io;
  const ag::asyncgen_hooks saved = ag::get_asyncgen_hooks();
  std::vector<ag::generator_ref> finalized;
  ag::set_asyncgen_hooks(nullptr, [&](ag::generator_ref g) { finalized.push_back(std::move(g)); });
  cleanup_record record;
  {
    auto g = awaiting_cleanup(io, record);
    anext(io, g);
  }
  ag::set_asyncgen_hooks(saved.firstiter, saved.finalizer);
  io.restart();
  io.run();
  CHECK(finalized.size() == 1);
  CHECK(record.cleanups == 0);
  unraisable_log unraisable;
  finalized.clear();  // dropped again, its finalizer spent: closed synchronously, as Python's GC does
  CHECK(lifetime::live() == 0);
  CHECK(record.cleanups == 0);
  CHECK(unraisable.entries == std::vector<std::string>{"RuntimeError: async generator ignored GeneratorExit"});
}

TEST_CASE("an io_context destroyed under 100 live generators unwinds every one then, without running an await") {
  int cleanups = 0, awaits_run = 0, resumed_after_await = 0;
  // Suspended at a yield; its cleanup awaits (a post: it needs no I/O object of the dead context).
  auto suspended = [&](asio::io_context& io) {
    return ag::make_async_generator<int>(io, [&](ag::context<int> co) {
      lifetime alive;
      std::exception_ptr raised;
      try {
        for (;;) ag::yield_(co, 1);
      } catch (...) {
        raised = std::current_exception();
      }
      ++cleanups;
      asio::post(co);
      ++awaits_run;
      std::rethrow_exception(raised);
    });
  };
  std::vector<ag::async_generator<int>> survivors;
  {
    asio::io_context io;
    std::vector<ag::async_generator<int>> live;
    for (int i = 0; i < 50; ++i) {
      live.push_back(suspended(io));
      live.back().anext([](std::exception_ptr, int) {});
    }
    for (int i = 0; i < 50; ++i) {  // waiting in an await
      live.push_back(ag::make_async_generator<int>(io, [&resumed_after_await](ag::context<int> co) {
        lifetime alive;
        asio::steady_timer timer(co.get_executor(), std::chrono::hours(1));
        timer.async_wait(co);
        ++resumed_after_await;
        ag::yield_(co, 0);
      }));
      live.back().anext([](std::exception_ptr, int) {});
    }
    io.poll();  // every one started; the timers are not due
    CHECK(lifetime::live() == 100);
    for (int i = 0; i < 10; ++i) survivors.push_back(std::move(live[i]));  // outlive the context
    live.erase(live.begin() + 20, live.begin() + 30);  // dropped: their close is scheduled, never run
    CHECK(lifetime::live() == 100);
    live.clear();  // the rest: dropped before the context, same
  }
  CHECK(lifetime::live() == 0);  // the survivors too: unwound when their context went
  CHECK(cleanups == 50);  // their stacks were unwound...
  CHECK(awaits_run == 0);  // ...without running an await
  CHECK(resumed_after_await == 0);
  survivors.clear();  // nothing left to run
  CHECK(cleanups == 50);
}

namespace {
// Started, then waiting on a timer of its own context for an hour before its second item.
ag::async_generator<int> waiting_on_own_timer(asio::io_context& io) {
  return ag::make_async_generator<int>(io, [](ag::context<int> co) {
    lifetime alive;
    ag::yield_(co, 1);
    asio::steady_timer timer(co.get_executor(), std::chrono::hours(1));
    timer.async_wait(co);
    ag::yield_(co, 2);
  });
}
}  // namespace

TEST_CASE("an io_context destroyed under a generator with a pending anext unwinds it then and destroys the handler uncalled") {
  // Whichever of the timer's services and the context's record of generators Asio shuts down first.
  for (bool timer_service_first : {false, true}) {
    CAPTURE(timer_service_first);
    auto token = std::make_shared<int>(0);
    bool called = false;
    ag::async_generator<int> g;  // declared before its io_context: it outlives it
    {
      auto io = std::make_unique<asio::io_context>();
      if (timer_service_first) asio::steady_timer made_first(*io);
      g = waiting_on_own_timer(*io);
      g.anext([&](std::exception_ptr, int) { g.anext([&called, token](std::exception_ptr, int) { called = true; }); });
      io->poll();
      CHECK(lifetime::live() == 1);
      CHECK(token.use_count() == 2);
    }
    CHECK(lifetime::live() == 0);   // its body, timer included, unwound while the context's services were there
    CHECK(token.use_count() == 1);  // the pending anext's handler destroyed...
    CHECK_FALSE(called);            // ...without being called, as Asio does with its own operations
    CHECK_THROWS_WITH_AS(g.anext([](std::exception_ptr, int) {}),
                         "anext: the generator's execution context was destroyed", ag::misuse_error);
    g = {};
  }
}

TEST_CASE("a generator suspended at a yield holding a timer of its own io_context is unwound before that context's services go") {
  bool timer_cancelled = false;
  ag::async_generator<int> g;  // declared before its io_context: it outlives it
  {
    asio::io_context io;
    g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
      lifetime alive;
      asio::steady_timer timer(co.get_executor(), std::chrono::hours(1));
      timer.async_wait([&](ag::error_code ec) { timer_cancelled = ec == asio::error::operation_aborted; });
      ag::yield_(co, 1);
      ag::yield_(co, 2);
    });
    int first = 0;
    g.anext([&](std::exception_ptr, int v) { first = v; });
    io.poll();  // not run: the timer's wait keeps the context busy for an hour
    CHECK(first == 1);
    CHECK(lifetime::live() == 1);
  }
  CHECK(lifetime::live() == 0);    // the timer was destroyed while its service was there...
  CHECK_FALSE(timer_cancelled);    // ...and its handler destroyed with the context, uncalled
  g = {};
}

TEST_CASE("a thread waiting on anext(asio::use_future) gets broken_promise when the generator's io_context is destroyed") {
  ag::async_generator<int> g;
  std::thread waiting;
  std::future_errc code{};
  bool got_value = false;
  {
    asio::io_context io;
    g = waiting_on_own_timer(io);
    CHECK(anext(io, g).value == 1);
    std::future<int> item = g.anext(asio::use_future);
    io.poll();  // the body waits on its timer
    waiting = std::thread([&, item = std::move(item)]() mutable {
      try {
        item.get();
        got_value = true;
      } catch (const std::future_error& e) {
        code = static_cast<std::future_errc>(e.code().value());
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  waiting.join();
  CHECK_FALSE(got_value);
  CHECK(code == std::future_errc::broken_promise);
  CHECK(lifetime::live() == 0);
}

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
TEST_CASE("an asio::spawn consumer on another io_context is unwound, not left waiting, when its generator's io_context is destroyed") {
  asio::io_context consumer_io;
  bool resumed = false;
  int consumer_alive = 0;
  ag::async_generator<int> g;
  {
    asio::io_context io;
    g = waiting_on_own_timer(io);
    asio::spawn(
        consumer_io,
        [&](asio::yield_context yield) {
          struct alive_while {
            int& n;
            ~alive_while() { --n; }
          } guard{++consumer_alive};
          g.anext(yield);
          g.anext(yield);  // its body waits on its timer
          resumed = true;
        },
        asio::detached);
    for (int i = 0; i < 10; ++i) {  // a context out of work stops: restart each
      consumer_io.restart();
      consumer_io.poll();
      io.restart();
      io.poll();
    }
    CHECK(consumer_alive == 1);
    CHECK(lifetime::live() == 1);
  }
  consumer_io.restart();
  consumer_io.run();  // returns: its handler gone, Asio unwinds the coroutine
  CHECK(consumer_alive == 0);
  CHECK_FALSE(resumed);
  CHECK(lifetime::live() == 0);
}
#endif

TEST_CASE("a body awaiting a timer of another, running io_context is unwound when its own is destroyed, and the completion dropped") {
  asio::io_context other;  // goes on running on its thread throughout
  auto work = asio::make_work_guard(other);
  std::thread runner([&] { other.run(); });
  // Not the body's: unwinding the body does not cancel it, so it completes after the context is gone.
  asio::steady_timer timer(other, std::chrono::milliseconds(20));
  std::promise<void> fired;
  asio::steady_timer later(other, std::chrono::milliseconds(40));
  later.async_wait([&](ag::error_code) { fired.set_value(); });
  bool resumed = false;
  ag::async_generator<int> g;  // declared before its io_context: it outlives it
  {
    auto io = std::make_unique<asio::io_context>();
    g = ag::make_async_generator<int>(*io, [&](ag::context<int> co) {
      lifetime alive;
      ag::yield_(co, 1);
      timer.async_wait(co);
      resumed = true;
      ag::yield_(co, 2);
    });
    CHECK(anext(*io, g).value == 1);
    g.anext([](std::exception_ptr, int) {});
    io->poll();  // the body waits on the other context's timer
    CHECK(lifetime::live() == 1);
  }
  CHECK(lifetime::live() == 0);
  fired.get_future().wait();  // the other context has run past the timer's completion
  CHECK_FALSE(resumed);
  g = {};
  work.reset();
  runner.join();
}

TEST_CASE("a timer of another io_context that completes while the generator's own is being destroyed does not resume the body") {
  // The completion races the destruction: run by poll, posted before the destruction and destroyed
  // by it uncalled, or dropped after it.
  for (int round = 0; round < 50; ++round) {
    asio::io_context other;
    auto work = asio::make_work_guard(other);
    std::thread runner([&] { other.run(); });
    asio::steady_timer timer(other, std::chrono::microseconds(round * 20));
    bool polled = false, resumed_after_poll = false;
    {
      auto io = std::make_unique<asio::io_context>();
      auto g = ag::make_async_generator<int>(*io, [&](ag::context<int> co) {
        timer.async_wait(co);
        resumed_after_poll = polled;
        ag::yield_(co, 1);
      });
      g.anext([](std::exception_ptr, int) {});
      io->poll();
      polled = true;
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(1000 - round * 20));
    work.reset();
    runner.join();
    CHECK_FALSE(resumed_after_poll);
  }
}

TEST_CASE("an operation on a started generator whose io_context was destroyed throws misuse_error at once") {
  std::vector<ag::async_generator<int>> survivors;
  {
    asio::io_context io;
    survivors.push_back(async_range(io, 3));
    CHECK(anext(io, survivors.back()).value == 0);
  }
  auto& g = survivors.back();
  CHECK_THROWS_WITH_AS(g.anext([](std::exception_ptr, int) {}),
                       "anext: the generator's execution context was destroyed", ag::misuse_error);
  CHECK_THROWS_WITH_AS(g.aclose([](std::exception_ptr) {}),
                       "aclose: the generator's execution context was destroyed", ag::misuse_error);
  asio::io_context other;
  auto consumer = ag::make_async_generator<int>(other, [&](ag::context<int> co) {
    CHECK_THROWS_WITH_AS(g.athrow(std::make_exception_ptr(std::out_of_range("e")), co),
                         "athrow: the generator's execution context was destroyed", ag::misuse_error);
  });
  consumer.anext([](std::exception_ptr, int) {});
  other.run();
}

TEST_CASE("an operation started on a stopped io_context completes once it runs again, as Asio's own do") {
  asio::io_context io;
  auto g = async_range(io, 3);
  io.stop();
  outcome<int> o;
  bool done = false;
  g.anext([&](std::exception_ptr e, int v) {
    o = {e, v};
    done = true;
  });
  CHECK(io.run() == 0);  // stopped: nothing runs
  CHECK_FALSE(done);
  io.restart();
  io.run();
  CHECK(done);
  CHECK_FALSE(o.error);
  CHECK(o.value == 0);
}
