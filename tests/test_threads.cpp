// Generators on executors run by several threads: operations started from any thread, bodies
// resumed on any thread, every item delivered once and every generator finalized once.
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

struct marker {};

// What one generator did, seen from its body and from its consumer.
struct ledger {
  std::atomic<int> yielded{0};
  std::atomic<int> received{0};
  std::atomic<int> finalized{0};
  std::atomic<bool> in_order{true};  // every outcome as expected
};

// Counts down the generators still to be consumed and finalized, and wakes the test when all are.
class countdown {
 public:
  explicit countdown(int n) : left_(n) {}
  void done() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--left_ == 0) cv_.notify_all();
  }
  bool wait(std::chrono::seconds limit) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, limit, [this] { return left_ == 0; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  int left_;
};

// Increments `finalized` and ticks the countdown when the body's stack goes, however it goes.
struct finalizer_guard {
  ledger& l;
  countdown& c;
  ~finalizer_guard() {
    l.finalized.fetch_add(1);
    c.done();
  }
};

using generator = ag::async_generator<int, int>;

// A body yielding `items` values id * 1000 + k; between yields it waits in ways that resume it on
// another thread: a post, a timer, or a generator it consumes on the same executor.
generator make_body(const asio::any_io_executor& ex, int id, int items, ledger& l, countdown& c) {
  return ag::make_async_generator<int, int>(ex, [=, &l, &c](ag::context<int, int> co) {
    finalizer_guard guard{l, c};
    std::minstd_rand rng(static_cast<unsigned>(id) + 1);
    for (int k = 0; k < items; ++k) {
      switch (rng() % 4) {
        case 0:
          asio::post(co);
          break;
        case 1: {
          asio::steady_timer timer(co.get_executor(), std::chrono::microseconds(rng() % 200));
          timer.async_wait(co);
          break;
        }
        case 2: {
          auto inner = ag::make_async_generator<int>(co.get_executor(), [](ag::context<int> ico) {
            asio::post(ico);
            ag::yield_(ico, 1);
          });
          if (inner.anext(co) != 1) l.in_order = false;
          inner.aclose(co);
          break;
        }
        default:
          break;
      }
      try {
        l.yielded.fetch_add(1);
        ag::yield_(co, id * 1000 + k);
      } catch (const marker&) {
        // athrow: the next item is its result
      }
    }
  });
}

// Drives one generator with random operations, each started from the thread that ran the
// previous one's handler (any of the pool's threads), until it ends, is closed or is dropped.
struct driver : std::enable_shared_from_this<driver> {
  driver(generator gen, int id, ledger& l, unsigned seed) : gen(std::move(gen)), id(id), l(l), rng(seed) {}

  void step() {
    auto self = shared_from_this();
    const unsigned pick = next == 0 ? 0 : rng() % 20;  // started by anext, so its body runs
    auto on_item = [self](std::exception_ptr e, int v) { self->received(e, v); };
    if (pick < 12) {
      gen.anext(on_item);
    } else if (pick < 15) {
      gen.asend(static_cast<int>(pick), on_item);
    } else if (pick < 17) {
      gen.athrow(std::make_exception_ptr(marker()), on_item);
    } else if (pick < 19) {
      gen.aclose([self](std::exception_ptr e) {
        if (e) self->l.in_order = false;
      });
    } else {
      gen = generator();  // dropped: the context schedules its aclose
    }
  }

  void received(std::exception_ptr e, int v) {
    if (e) {
      if (!is_stop(e)) l.in_order = false;
      return;
    }
    if (v != id * 1000 + next) l.in_order = false;
    ++next;
    l.received.fetch_add(1);
    step();
  }

  generator gen;
  int id;
  ledger& l;
  std::minstd_rand rng;
  int next = 0;
};

// Runs `count` generators on executors from `executor_for`; each first operation is started from
// one of the threads running `threads`.
template <class ExecutorFor>
void stress(int count, ExecutorFor executor_for, const asio::any_io_executor& threads) {
  std::vector<ledger> ledgers(static_cast<std::size_t>(count));
  countdown all(count);
  std::minstd_rand rng(42);
  for (int i = 0; i < count; ++i) {
    ledger& l = ledgers[static_cast<std::size_t>(i)];
    auto d = std::make_shared<driver>(make_body(executor_for(i), i, 1 + static_cast<int>(rng() % 20), l, all), i, l, rng());
    asio::post(threads, [d] { d->step(); });
  }
  REQUIRE(all.wait(std::chrono::seconds(120)));
  int yielded = 0, received = 0, bad = 0, finalized_once = 0;
  for (ledger& l : ledgers) {
    yielded += l.yielded.load();
    received += l.received.load();
    bad += l.in_order ? 0 : 1;
    finalized_once += l.finalized.load() == 1 ? 1 : 0;
  }
  CHECK(bad == 0);
  CHECK(finalized_once == count);
  // Each driver checked it got id * 1000 + 0, 1, 2, ... in order; a generator is closed or dropped
  // only at a yield whose item was taken, so every item yielded was received once.
  CHECK(received == yielded);
}

}  // namespace

// ThreadSanitizer gives each fiber state of its own and shadows each stack mapping: 10,000 live
// generators would pass vm.max_map_count (65,530 on Debian). Under it they run in waves of 2,000.
constexpr int wave = ASYNC_GENERATOR_TSAN ? 2000 : 10000;

TEST_CASE("10,000 generators on an io_context run by 4 threads, with random operations started from every thread: "
          "every item delivered once and in order, every generator finalized once") {
  asio::io_context io(4);
  auto work = asio::make_work_guard(io);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&io] { io.run(); });
  // Every other generator gets a strand: the two kinds of executor a pool's users give.
  for (int done = 0; done < 10000; done += wave) {
    stress(
        wave,
        [&](int i) { return i % 2 == 0 ? asio::any_io_executor(io.get_executor()) : asio::any_io_executor(asio::make_strand(io)); },
        io.get_executor());
  }
  work.reset();
  for (std::thread& t : threads) t.join();
}

TEST_CASE("generators on an asio::thread_pool of 4 threads deliver every item once and are finalized once") {
  asio::thread_pool pool(4);
  stress(2000, [&](int) { return asio::any_io_executor(pool.get_executor()); }, pool.get_executor());
  pool.join();
}

namespace {

// What several threads' overlapping operations on one generator delivered: every item exactly once
// and each thread's items in order, every other outcome "already running" or the end.
struct overlap_ledger {
  std::mutex mutex;
  std::vector<int> items;
  int already_running = 0;
  int ends = 0;
  std::vector<std::string> unexpected;

  // Records one outcome; false when it was the end of iteration.
  bool record(std::exception_ptr e, int v, int& last) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!e) {
      if (v <= last) unexpected.push_back("out of order: " + std::to_string(v) + " after " + std::to_string(last));
      last = v;
      items.push_back(v);
      return true;
    }
    if (is_stop(e)) {
      ++ends;
      return false;
    }
    const std::string text = message_of<ag::runtime_error>(e);
    if (text == "anext(): asynchronous generator is already running") {
      ++already_running;
    } else {
      unexpected.push_back(text);
    }
    return true;
  }
  void check_each_once(int count) {
    std::sort(items.begin(), items.end());
    std::vector<int> all(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) all[static_cast<std::size_t>(i)] = i;
    CHECK(items == all);
    CHECK(unexpected == std::vector<std::string>{});
  }
};

// Yields 0 .. count - 1; every third item after an executor hop, so that an operation spans one.
ag::async_generator<int> counting(asio::io_context& io, int count) {
  return ag::make_async_generator<int>(io, [count](ag::context<int> co) {
    for (int i = 0; i < count; ++i) {
      if (i % 3 == 0) asio::post(co);
      ag::yield_(co, i);
    }
  });
}

// Runs `io` on two threads until `done` returns.
template <class Done>
void on_two_threads(asio::io_context& io, Done done) {
  auto work = asio::make_work_guard(io);
  std::thread a([&io] { io.run(); });
  std::thread b([&io] { io.run(); });
  done();
  work.reset();
  a.join();
  b.join();
}

}  // namespace

TEST_CASE("two threads looping anext(use_future) on one generator while its io_context runs on two others: "
          "the loser of each overlap completes with 'already running', every item delivered once") {
  constexpr int count = 20000;
  asio::io_context io;
  auto gen = counting(io, count);
  overlap_ledger ledger;
  on_two_threads(io, [&] {
    auto consume = [&] {
      int last = -1;
      for (;;) {
        std::future<int> f = gen.anext(asio::use_future);
        int v = 0;
        std::exception_ptr e;
        try {
          v = f.get();
        } catch (...) {
          e = std::current_exception();
        }
        if (!ledger.record(e, v, last)) return;
      }
    };
    std::thread c1(consume);
    std::thread c2(consume);
    c1.join();
    c2.join();
  });
  ledger.check_each_once(count);
  CHECK(ledger.ends == 2);
  MESSAGE("overlaps refused: " << ledger.already_running);
}

TEST_CASE("anext started by two handlers at once on an io_context run by two threads (no strand): "
          "each round, one gets the next item and the other 'already running', or both get items in turn") {
  constexpr int count = 100000;
  asio::io_context io;
  auto gen = counting(io, count);
  overlap_ledger ledger;
  std::atomic<int> ended{0};
  // Two chains of handlers, each starting its next anext from the handler of its previous one,
  // on whichever thread runs it: the two chains overlap all the time.
  struct chain_of_anext {
    ag::async_generator<int>& gen;
    overlap_ledger& ledger;
    std::atomic<int>& ended;
    int last = -1;
    void next() {
      gen.anext([this](std::exception_ptr e, int v) {
        if (ledger.record(e, v, last)) {
          next();
        } else {
          ended.fetch_add(1);
        }
      });
    }
  };
  chain_of_anext first{gen, ledger, ended}, second{gen, ledger, ended};
  on_two_threads(io, [&] {
    asio::post(io, [&] { first.next(); });
    asio::post(io, [&] { second.next(); });
    while (ended.load() != 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  });
  ledger.check_each_once(count);
}

TEST_CASE("anext on the outer and the middle generator of a yield_from_ chain from two threads at once: every item "
          "of the innermost delivered once, the losers 'already running'") {
  constexpr int rounds = 300;
  constexpr int count = 30;
  asio::io_context io;
  int bad_rounds = 0;
  on_two_threads(io, [&] {
    for (int round = 0; round < rounds; ++round) {
      auto inner = counting(io, count);
      auto middle = ag::make_async_generator<int>(io, [&inner](ag::context<int> co) { ag::yield_from_(co, inner); });
      auto outer = ag::make_async_generator<int>(io, [&middle](ag::context<int> co) { ag::yield_from_(co, middle); });
      REQUIRE(outer.anext(asio::use_future).get() == 0);  // the chain is made: both go straight to the innermost
      overlap_ledger ledger;
      ledger.items.push_back(0);
      auto consume = [&](ag::async_generator<int>& gen) {
        int last = 0;
        for (;;) {
          int v = 0;
          std::exception_ptr e;
          try {
            v = gen.anext(asio::use_future).get();
          } catch (...) {
            e = std::current_exception();
          }
          if (!ledger.record(e, v, last)) return;
        }
      };
      std::thread c1([&] { consume(outer); });
      std::thread c2([&] { consume(middle); });
      c1.join();
      c2.join();
      // As on one thread: an anext on the outer generator while the innermost runs an operation
      // started on the middle one resumes the outer body, whose yield_from_ then fails with
      // "already running" and ends it.
      std::sort(ledger.items.begin(), ledger.items.end());
      std::vector<int> all(count);
      for (int i = 0; i < count; ++i) all[static_cast<std::size_t>(i)] = i;
      if (ledger.items != all || !ledger.unexpected.empty()) ++bad_rounds;
    }
  });
  CHECK(bad_rounds == 0);
}

TEST_CASE("bodies awaiting inside catch blocks on an io_context run by four threads each rethrow their own exception, "
          "on whichever thread they resume") {
  if (!ag::compat::fiber_keeps_exception_state) {
    MESSAGE("not with this C++ runtime: fibers share the thread's exception state");
    return;
  }
  constexpr int generators = 200;
  constexpr int rounds = 10;
  asio::io_context io(4);
  std::atomic<int> right{0};
  std::atomic<int> wrong{0};
  countdown all(generators);
  std::vector<ag::async_generator<int>> gens;
  for (int id = 0; id < generators; ++id) {
    gens.push_back(ag::make_async_generator<int>(io, [id, &right, &wrong](ag::context<int> co) {
      std::minstd_rand rng(static_cast<unsigned>(id) + 7);
      for (int k = 0; k < rounds; ++k) {
        const std::string mine = std::to_string(id) + "." + std::to_string(k);
        try {
          try {
            throw std::runtime_error(mine);
          } catch (const std::runtime_error&) {
            asio::steady_timer timer(co.get_executor(), std::chrono::microseconds(rng() % 300));
            timer.async_wait(co);  // resumes on any of the four threads
            throw;
          }
        } catch (const std::runtime_error& e) {
          (e.what() == mine ? right : wrong).fetch_add(1);
        }
        ag::yield_(co, k);
      }
    }));
  }
  for (auto& g : gens) {
    auto* gen = &g;
    auto next = std::make_shared<std::function<void(std::exception_ptr, int)>>();
    *next = [gen, next, &all](std::exception_ptr e, int) {
      if (e) {
        all.done();
        *next = nullptr;  // the last handler lets go of itself
        return;
      }
      gen->anext(*next);
    };
    gen->anext(*next);
  }
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) threads.emplace_back([&io] { io.run(); });
  const bool finished = all.wait(std::chrono::seconds(60));
  for (std::thread& t : threads) t.join();
  REQUIRE(finished);
  CHECK(right.load() == generators * rounds);
  CHECK(wrong.load() == 0);
}

TEST_CASE("an io_context made for one thread (concurrency hint 1) is told from one that may run on several, whose "
          "generators' claims are atomic") {
  asio::io_context one(1);
  CHECK(ag::compat::made_for_one_thread(one));
  asio::io_context any;
  CHECK_FALSE(ag::compat::made_for_one_thread(any));
  asio::io_context four(4);
  CHECK_FALSE(ag::compat::made_for_one_thread(four));
  asio::thread_pool pool(2);
  CHECK_FALSE(ag::compat::made_for_one_thread(pool));
  pool.join();
}
