// Steady-state iteration never allocates: every consumer path takes 10,000 items after a warm-up
// without reaching operator new. And when memory is short, what must not fail does not: the
// replaced operator new can be told to fail after a number of allocations (allocation_limit), and
// shutdown_asyncgens and the closes drops schedule go on without it. A program of its own, since it
// replaces the global operator new.
#include "support.hpp"
#include <async_generator/compat/asio_all.hpp>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

namespace {
std::atomic<long> allocations{0};  // attempted, failed ones included
// How many more allocations succeed before operator new throws std::bad_alloc; negative: all do.
std::atomic<long> allocations_allowed{-1};

bool may_allocate() {
  long left = allocations_allowed.load(std::memory_order_relaxed);
  while (left >= 0) {
    if (left == 0) return false;
    if (allocations_allowed.compare_exchange_weak(left, left - 1, std::memory_order_relaxed)) return true;
  }
  return true;
}

void* counted_allocation(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (may_allocate()) {
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  }
  throw std::bad_alloc();
}
}  // namespace

void* operator new(std::size_t size) { return counted_allocation(size); }
void* operator new[](std::size_t size) { return counted_allocation(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  allocations.fetch_add(1, std::memory_order_relaxed);
  return may_allocate() ? std::malloc(size == 0 ? 1 : size) : nullptr;
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept { return operator new(size, tag); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

constexpr int warm_up = 100;
constexpr int counted = 10000;

// Counts the allocations made between item `warm_up` and item `warm_up + counted`.
struct allocation_window {
  long at_start = -1;
  long at_end = -1;
  int items = 0;
  // Called once per item received; true once the window is closed.
  bool item() {
    ++items;
    if (items == warm_up) at_start = allocations.load();
    if (items == warm_up + counted) at_end = allocations.load();
    return items >= warm_up + counted;
  }
  long during() const { return at_end - at_start; }
};

// The window was closed (every item came) and saw no allocation.
void check_none_during(const allocation_window& w) {
  CHECK(w.at_end >= 0);
  CHECK(w.during() == 0);
}

const auto naturals = ag::make_generator_function<int, int>([](ag::context<int, int> co) {
  for (int i = 0;; ++i) ag::yield_(co, i);
});

const auto upto = ag::make_generator_function<int>([](ag::context<int> co, int n) {
  for (int i = 0; i < n; ++i) ag::yield_(co, i);
});

// A delegation chain `depth` deep above `naturals`.
ag::async_generator<int, int> delegating(asio::io_context& io, int depth) {
  if (depth == 0) return naturals(io);
  return ag::make_async_generator<int, int>(io, [&io, depth](ag::context<int, int> co) {
    ag::yield_from_(co, delegating(io, depth - 1));
  });
}

// A generator that waits in an Asio operation (a post) before each item.
const auto posting_naturals = ag::make_generator_function<int>([](ag::context<int> co) {
  for (int i = 0;; ++i) {
    asio::post(co);
    ag::yield_(co, i);
  }
});

// A callback consumer, as a composed operation: each item's handler asks for the next.
template <class Generator>
struct next_item {
  Generator* gen;
  allocation_window* window;
  void operator()(std::exception_ptr e, int) const {
    REQUIRE_FALSE(e);
    if (!window->item()) gen->anext(*this);
  }
};

// Consumes items from a generator body through its `co`.
template <class Make>
allocation_window consume_in_a_body(Make make) {
  asio::io_context io;
  allocation_window window;
  auto consumer = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    auto gen = make(io);
    while (!window.item()) gen.anext(co);
  });
  consumer.anext([](std::exception_ptr, int) {});
  io.run();
  return window;
}

// Consumes items through callback handlers, each asking for the next.
template <class Make>
allocation_window consume_by_callbacks(Make make) {
  asio::io_context io;
  allocation_window window;
  auto gen = make(io);
  gen.anext(next_item<decltype(gen)>{&gen, &window});
  io.run();
  return window;
}

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
// Consumes items from an asio::spawn coroutine.
template <class Make>
allocation_window consume_in_spawn(Make make) {
  asio::io_context io;
  allocation_window window;
  auto gen = make(io);
  asio::spawn(io, [&](asio::yield_context yield) {
    while (!window.item()) gen.anext(yield);
  }, asio::detached);
  io.run();
  return window;
}
#endif

}  // namespace

TEST_CASE("anext from a generator body allocates nothing per item") {
  allocation_window w = consume_in_a_body([](asio::io_context& io) { return naturals(io); });
  check_none_during(w);
}

TEST_CASE("anext through a yield_from_ chain 4 deep allocates nothing per item") {
  allocation_window w = consume_in_a_body([](asio::io_context& io) { return delegating(io, 4); });
  check_none_during(w);
}

TEST_CASE("a body awaiting an Asio operation before each item allocates nothing per item") {
  allocation_window w = consume_in_a_body([](asio::io_context& io) { return posting_naturals(io); });
  check_none_during(w);
}

TEST_CASE("asend from a generator body allocates nothing per item") {
  asio::io_context io;
  allocation_window window;
  auto consumer = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    auto gen = naturals(io);
    gen.anext(co);
    while (!window.item()) gen.asend(window.items, co);
  });
  consumer.anext([](std::exception_ptr, int) {});
  io.run();
  check_none_during(window);
}

TEST_CASE("aiter in a generator body allocates nothing per item") {
  asio::io_context io;
  allocation_window window;
  auto consumer = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    auto gen = naturals(io);
    for (int v : ag::aiter(gen, co)) {
      (void)v;
      if (window.item()) break;
    }
  });
  consumer.anext([](std::exception_ptr, int) {});
  io.run();
  check_none_during(window);
}

TEST_CASE("anext with a callback handler allocates nothing per item") {
  check_none_during(consume_by_callbacks([](asio::io_context& io) { return naturals(io); }));
}

TEST_CASE("anext with a callback handler on a generator awaiting before each item allocates nothing per item") {
#if !ASYNC_GENERATOR_ASIO_RECYCLES_AWAIT_COMPLETIONS
  MESSAGE("not on Asio 1.18 (Boost 1.74), which allocates on this path");
  return;
#endif
  check_none_during(consume_by_callbacks([](asio::io_context& io) { return posting_naturals(io); }));
}

TEST_CASE("async_for_each allocates nothing per item") {
  asio::io_context io;
  allocation_window window;
  auto gen = upto(io, warm_up + counted);
  bool done = false;
  ag::async_for_each(
      gen, [&](int) { window.item(); }, [&](std::exception_ptr e) {
        CHECK_FALSE(e);
        done = true;
      });
  io.run();
  CHECK(done);
  check_none_during(window);
}

#if ASYNC_GENERATOR_HAS_FIBER_SPAWN
TEST_CASE("anext from an asio::spawn coroutine allocates nothing per item") {
  check_none_during(consume_in_spawn([](asio::io_context& io) { return naturals(io); }));
}

TEST_CASE("anext from an asio::spawn coroutine on a generator awaiting before each item allocates nothing per item") {
  check_none_during(consume_in_spawn([](asio::io_context& io) { return posting_naturals(io); }));
}
#endif

#if ASYNC_GENERATOR_HAS_DEFERRED
TEST_CASE("anext with asio::deferred allocates nothing per item") {
  asio::io_context io;
  allocation_window window;
  auto gen = naturals(io);
  struct step {
    decltype(gen)* g;
    allocation_window* window;
    void operator()(std::exception_ptr e, int) const {
      REQUIRE_FALSE(e);
      if (!window->item()) g->anext(asio::deferred)(*this);
    }
  };
  gen.anext(asio::deferred)(step{&gen, &window});
  io.run();
  check_none_during(window);
}
#endif

#if ASYNC_GENERATOR_HAS_CO_AWAIT
TEST_CASE("anext with asio::use_awaitable allocates nothing per item") {
  asio::io_context io;
  allocation_window window;
  auto gen = naturals(io);
  asio::co_spawn(io, [&]() -> asio::awaitable<void> {
    while (!window.item()) co_await gen.anext(asio::use_awaitable);
  }, asio::detached);
  io.run();
  check_none_during(window);
}
#endif

// --- when memory is short ------------------------------------------------------------------------

namespace {

// While imposed, operator new succeeds `allowed` more times, then throws std::bad_alloc. Nothing
// that may allocate (a doctest check among them) runs then: what a test sees is kept, and checked
// once memory is back.
class allocation_limit {
 public:
  allocation_limit() = default;
  explicit allocation_limit(long allowed) { impose(allowed); }
  allocation_limit(const allocation_limit&) = delete;
  allocation_limit& operator=(const allocation_limit&) = delete;
  ~allocation_limit() { lift(); }

  void impose(long allowed) {
    first_ = allocations.load();
    allocations_allowed.store(allowed);
    imposed_ = true;
  }
  // Memory is back. Returns how many allocations were tried (the failed ones too) while it was short.
  long lift() {
    if (imposed_) {
      allocations_allowed.store(-1);
      tried_ = allocations.load() - first_;
      imposed_ = false;
    }
    return tried_;
  }

 private:
  long first_ = 0;
  long tried_ = 0;
  bool imposed_ = false;
};

// The reports of a context's asyncgen exception handler, kept in room made beforehand: recording
// one allocates nothing.
class report_log {
 public:
  struct entry {
    std::string message;
    std::exception_ptr exception;
    const void* generator = nullptr;
  };

  report_log(asio::io_context& io, std::size_t room) : entries_(room) {
    for (entry& e : entries_) e.message.reserve(256);
    ag::set_asyncgen_exception_handler(io, recorder{this, std::make_shared<int>(0)});
  }
  std::size_t size() const { return count_; }
  const entry& operator[](std::size_t i) const { return entries_.at(i); }

 private:
  // Not trivially copyable, so std::function holds it on the heap: a report that copied the
  // handler would allocate.
  struct recorder {
    report_log* log;
    std::shared_ptr<int> not_trivially_copyable;
    void operator()(const ag::asyncgen_error& e) const { log->record(e); }
  };
  void record(const ag::asyncgen_error& e) {
    if (count_ < entries_.size()) {
      entry& slot = entries_[count_];
      slot.message.assign(e.message);
      slot.exception = e.exception;
      slot.generator = e.asyncgen.id();
    }
    ++count_;
  }

  std::vector<entry> entries_;
  std::size_t count_ = 0;
};

// What a test of shutdown_asyncgens sees of its handler.
struct shutdown_outcome {
  int calls = 0;
  std::exception_ptr error;
  void operator()(std::exception_ptr e) {
    ++calls;
    error = e;
  }
};
struct shutdown_handler {
  shutdown_outcome* outcome;
  void operator()(std::exception_ptr e) const { (*outcome)(e); }
};

// Suspended at its first yield, holding what counts its destruction.
template <class ExecutorOrContext>
ag::async_generator<int> holding_a_counter(ExecutorOrContext&& ex, int& destroyed) {
  return ag::make_async_generator<int>(ex, [&destroyed](ag::context<int> co) {
    destruction_counter counted(destroyed);
    for (;;) ag::yield_(co, 1);
  });
}

// Makes `n` of them on `ex`, each started (the io_context `io` runs them to their yield). The pool
// of stacks first takes back, and so has room to keep, as many as they will give back when they
// end: its own bookkeeping, which returns a stack to the system when it cannot grow, is not what a
// test counts.
template <class Executor>
std::vector<ag::async_generator<int>> started(asio::io_context& io, const Executor& ex, int n, int& destroyed) {
  {
    int ended = 0;
    std::vector<ag::async_generator<int>> warming;
    for (int i = 0; i < 2 * n; ++i) {
      warming.push_back(holding_a_counter(ex, ended));
      warming.back().anext([](std::exception_ptr, int) {});
    }
    io.run();
    io.restart();
    for (auto& g : warming) g.aclose([](std::exception_ptr) {});
    io.run();
    io.restart();
  }
  std::vector<ag::async_generator<int>> live;
  for (int i = 0; i < n; ++i) {
    live.push_back(holding_a_counter(ex, destroyed));
    live.back().anext([](std::exception_ptr, int) {});
  }
  io.run();
  io.restart();
  return live;
}

// An allocator that takes its memory from operator new, where Asio would take the default
// allocator's from a cache of its own, or from aligned_alloc.
template <class T>
struct operator_new_allocator {
  using value_type = T;
  operator_new_allocator() = default;
  template <class U>
  operator_new_allocator(const operator_new_allocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
  void deallocate(T* p, std::size_t) noexcept { ::operator delete(p); }
  friend bool operator==(const operator_new_allocator&, const operator_new_allocator&) noexcept { return true; }
  friend bool operator!=(const operator_new_allocator&, const operator_new_allocator&) noexcept { return false; }
};

// An io_context's executor that allocates through operator new each function it queues, behind
// Asio's type erasure (which ignores the allocator a function names): posting to it fails when
// operator new does.
asio::any_io_executor allocating_executor(asio::io_context& io) {
  return asio::require(io.get_executor(), asio::execution::allocator(operator_new_allocator<void>()));
}

// An Asio operation whose initiation allocates its state, as many do: with memory short, starting
// it throws std::bad_alloc.
template <class Token>
auto async_allocating_post(asio::io_context& io, Token&& token) {
  return asio::async_initiate<Token, void()>(
      [&io](auto handler) {
        auto held = std::make_shared<decltype(handler)>(std::move(handler));
        asio::post(io, [held] { std::move(*held)(); });
      },
      token);
}

const std::string close_error_prefix = "an error occurred during closing of asynchronous generator ";

// The live generator a report names.
const ag::async_generator<int>* named_by(const std::vector<ag::async_generator<int>>& live, const void* id) {
  for (const auto& g : live) {
    if (g.frame() == id) return &g;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("shutdown_asyncgens closes every live generator with no allocation after its first, when every later allocation fails") {
  constexpr int n = 100;
  asio::io_context io;
  int cleanups = 0;
  auto live = started(io, io.get_executor(), n, cleanups);
  shutdown_outcome outcome;
  int calls_inside = -1, cleanups_inside = -1;
  long tried = 0;
  {
    allocation_limit limit(1);
    ag::shutdown_asyncgens(io, shutdown_handler{&outcome});
    calls_inside = outcome.calls;
    cleanups_inside = cleanups;  // not this thread's executor: posted
    io.run();
    tried = limit.lift();
  }
  CHECK(tried == 1);
  CHECK(calls_inside == 0);
  CHECK(cleanups_inside == 0);
  CHECK(cleanups == n);
  CHECK(outcome.calls == 1);
  CHECK_FALSE(outcome.error);
  live.clear();  // closed: nothing runs again
  io.restart();
  io.run();
  CHECK(cleanups == n);
}

TEST_CASE("shutdown_asyncgens called on its generators' io_context thread closes them there at once, with no allocation after its first, when every later allocation fails") {
  constexpr int n = 100;
  asio::io_context io;
  int cleanups = 0;
  auto live = started(io, io.get_executor(), n, cleanups);
  shutdown_outcome outcome;
  int calls_inside = -1, cleanups_inside = -1;
  allocation_limit limit;
  asio::post(io, [&] {
    limit.impose(1);
    ag::shutdown_asyncgens(io, shutdown_handler{&outcome});
    calls_inside = outcome.calls;
    cleanups_inside = cleanups;
  });
  io.run();
  CHECK(limit.lift() == 1);
  CHECK(cleanups_inside == n);
  CHECK(calls_inside == 0);  // completed every close, yet the handler waited for the initiating function's return
  CHECK(outcome.calls == 1);
  CHECK_FALSE(outcome.error);
}

TEST_CASE("shutdown_asyncgens closes synchronously, and reports why, generators whose executor cannot take their close for want of memory") {
  constexpr int n = 10;
  asio::io_context io;
  report_log reports(io, n);
  int cleanups = 0;
  auto live = started(io, allocating_executor(io), n, cleanups);
  shutdown_outcome outcome;
  int cleanups_inside = -1;
  {
    allocation_limit limit(1);
    ag::shutdown_asyncgens(io, shutdown_handler{&outcome});
    cleanups_inside = cleanups;
    io.run();
  }
  CHECK(cleanups_inside == n);
  CHECK(outcome.calls == 1);
  CHECK_FALSE(outcome.error);
  REQUIRE(reports.size() == n);
  std::vector<const void*> named;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    CAPTURE(i);
    const ag::async_generator<int>* g = named_by(live, reports[i].generator);
    REQUIRE(g != nullptr);
    named.push_back(g->frame());
    CHECK(reports[i].message ==
          "asynchronous generator " + g->frame()->description() + " was closed synchronously: its aclose() could not be scheduled");
    CHECK(message_of<std::bad_alloc>(reports[i].exception) == std::bad_alloc().what());
  }
  std::sort(named.begin(), named.end());
  CHECK(std::unique(named.begin(), named.end()) == named.end());  // one report for each
}

TEST_CASE("a close by shutdown_asyncgens whose cleanup's await cannot allocate reports that error, and leaves the generator finished") {
  asio::io_context io;
  report_log reports(io, 1);
  int cleanups = 0;
  bool await_failed_with_bad_alloc = false;
  auto g = ag::make_async_generator<int>(io, [&](ag::context<int> co) {
    destruction_counter counted(cleanups);
    try {
      for (;;) ag::yield_(co, 1);
    } catch (const ag::generator_exit&) {
      try {
        async_allocating_post(io, co);
      } catch (const std::bad_alloc&) {
        await_failed_with_bad_alloc = true;
        throw;
      }
      throw;
    }
  });
  CHECK(anext(io, g).value == 1);
  shutdown_outcome outcome;
  {
    allocation_limit limit(1);
    ag::shutdown_asyncgens(io, shutdown_handler{&outcome});
    io.restart();
    io.run();
  }
  CHECK(await_failed_with_bad_alloc);
  CHECK(cleanups == 1);
  CHECK(outcome.calls == 1);
  CHECK_FALSE(outcome.error);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].message == close_error_prefix + g.frame()->description());
  CHECK(message_of<std::bad_alloc>(reports[0].exception) == std::bad_alloc().what());
  CHECK(reports[0].generator == g.frame());
  CHECK(is_empty_stop(anext(io, g).error));  // finished
}

TEST_CASE("shutdown_asyncgens throws std::bad_alloc when its state cannot be allocated, closing nothing; a later one closes every generator") {
  constexpr int n = 10;
  asio::io_context io;
  int cleanups = 0;
  auto live = started(io, io.get_executor(), n, cleanups);
  shutdown_outcome outcome;
  bool threw_bad_alloc = false;
  {
    allocation_limit limit(0);
    try {
      ag::shutdown_asyncgens(io, shutdown_handler{&outcome});
    } catch (const std::bad_alloc&) {
      threw_bad_alloc = true;
    }
    io.run();
  }
  CHECK(threw_bad_alloc);
  CHECK(cleanups == 0);
  CHECK(outcome.calls == 0);
  io.restart();
  ag::shutdown_asyncgens(io, shutdown_handler{&outcome});
  io.run();
  CHECK(cleanups == n);
  CHECK(outcome.calls == 1);
  CHECK_FALSE(outcome.error);
}

TEST_CASE("a generator dropped while every allocation fails has its aclose run on its executor all the same, allocating nothing") {
  constexpr int n = 10;
  asio::io_context io;
  int cleanups = 0;
  auto live = started(io, io.get_executor(), n, cleanups);
  int cleanups_at_drop = -1;
  long tried = -1;
  {
    allocation_limit limit(0);
    live.clear();
    cleanups_at_drop = cleanups;  // scheduled, not run on the dropping thread
    io.run();
    tried = limit.lift();
  }
  CHECK(tried == 0);
  CHECK(cleanups_at_drop == 0);
  CHECK(cleanups == n);
}

TEST_CASE("shutdown_asyncgens waits for the closes drops scheduled with no allocation after its first, when every later allocation fails") {
  constexpr int n = 10;
  asio::io_context io;
  int cleanups = 0;
  auto live = started(io, io.get_executor(), n, cleanups);
  auto dropped = started(io, io.get_executor(), n, cleanups);
  shutdown_outcome outcome;
  long tried = -1;
  {
    allocation_limit limit(0);
    dropped.clear();  // their closes are scheduled
    limit.impose(1);
    ag::shutdown_asyncgens(io, shutdown_handler{&outcome});
    io.run();
    tried = limit.lift();
  }
  CHECK(tried == 1);
  CHECK(cleanups == 2 * n);
  CHECK(outcome.calls == 1);
  CHECK_FALSE(outcome.error);
}

TEST_CASE("a generator whose first operation fails for want of memory is tracked once it starts, and closed by shutdown_asyncgens") {
  asio::io_context io;  // its record of generators is made on its first generator's first operation
  int cleanups = 0;
  auto g = holding_a_counter(io, cleanups);
  bool threw_bad_alloc = false;
  {
    allocation_limit limit(0);
    try {
      g.anext([](std::exception_ptr, int) {});
    } catch (const std::bad_alloc&) {
      threw_bad_alloc = true;
    }
  }
  CHECK(threw_bad_alloc);
  CHECK(anext(io, g).value == 1);
  shutdown_outcome outcome;
  ag::shutdown_asyncgens(io, shutdown_handler{&outcome});
  io.restart();
  io.run();
  CHECK(cleanups == 1);
  CHECK(outcome.calls == 1);
}

namespace {
// Memory set aside for a handler's operations: its associated allocator takes from it, and gives
// nothing back until it goes.
class handler_arena {
 public:
  void* take(std::size_t size) {
    const std::size_t at = (used_ + alignof(std::max_align_t) - 1) / alignof(std::max_align_t) * alignof(std::max_align_t);
    if (at + size > sizeof bytes_) throw std::bad_alloc();
    used_ = at + size;
    return bytes_ + at;
  }

 private:
  alignas(std::max_align_t) unsigned char bytes_[4096];
  std::size_t used_ = 0;
};

template <class T>
struct arena_allocator {
  using value_type = T;
  explicit arena_allocator(handler_arena& a) noexcept : arena(&a) {}
  template <class U>
  arena_allocator(const arena_allocator<U>& other) noexcept : arena(other.arena) {}
  T* allocate(std::size_t n) { return static_cast<T*>(arena->take(n * sizeof(T))); }
  void deallocate(T*, std::size_t) noexcept {}
  friend bool operator==(const arena_allocator& a, const arena_allocator& b) noexcept { return a.arena == b.arena; }
  friend bool operator!=(const arena_allocator& a, const arena_allocator& b) noexcept { return a.arena != b.arena; }
  handler_arena* arena;
};

// An anext handler whose operations take their memory from an arena.
struct item_into_arena_handler {
  using allocator_type = arena_allocator<void>;
  allocator_type get_allocator() const noexcept { return allocator_type(*arena); }
  void operator()(std::exception_ptr, int v) const { *item = v; }
  handler_arena* arena;
  int* item;
};
}  // namespace

TEST_CASE("a generator first used after shutdown_asyncgens while memory is short starts, and the warning still reaches the exception handler") {
  asio::io_context io;
  report_log reports(io, 1);
  int warming_cleanups = 0;
  started(io, io.get_executor(), 1, warming_cleanups).clear();  // the pool of stacks has one for the late one
  shutdown_outcome outcome;
  ag::shutdown_asyncgens(io, shutdown_handler{&outcome});
  io.run();
  io.restart();
  REQUIRE(outcome.calls == 1);
  int cleanups = 0;
  auto late = holding_a_counter(io, cleanups);
  handler_arena arena;
  int value = 0;
  bool threw = false;
  allocation_limit limit;
  // Started on its executor's thread, the body runs at once; its handler's own operation, the
  // posted completion, takes the arena's memory.
  asio::post(io, [&] {
    limit.impose(0);
    try {
      late.anext(item_into_arena_handler{&arena, &value});
    } catch (...) {
      threw = true;
    }
  });
  io.run();
  limit.lift();
  CHECK_FALSE(threw);
  CHECK(value == 1);
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].message ==
        "asynchronous generator " + late.frame()->description() + " was scheduled after shutdown_asyncgens() call");
  CHECK_FALSE(reports[0].exception);
  CHECK(reports[0].generator == late.frame());
  late = {};  // its scheduled close runs while what its body counts in is there
  io.restart();
  io.run();
  CHECK(cleanups == 1);
}

TEST_CASE("a generator whose executor cannot take its scheduled close for want of memory is closed synchronously when dropped, and that reported") {
  asio::io_context io;
  report_log reports(io, 1);
  int cleanups = 0;
  bool generator_exit_raised = false;
  auto g = ag::make_async_generator<int>(allocating_executor(io), [&](ag::context<int> co) {
    destruction_counter counted(cleanups);
    try {
      for (;;) ag::yield_(co, 1);
    } catch (const ag::generator_exit&) {
      generator_exit_raised = true;
      throw;
    }
  });
  CHECK(anext(io, g).value == 1);
  const std::string description = g.frame()->description();
  const void* id = g.frame();
  int cleanups_at_drop = -1;
  {
    allocation_limit limit(0);
    g = {};
    cleanups_at_drop = cleanups;
  }
  CHECK(cleanups_at_drop == 1);
  CHECK(generator_exit_raised);  // closed, not merely unwound
  REQUIRE(reports.size() == 1);
  CHECK(reports[0].message == "asynchronous generator " + description + " was closed synchronously: its aclose() could not be scheduled");
  CHECK(message_of<std::bad_alloc>(reports[0].exception) == std::bad_alloc().what());
  CHECK(reports[0].generator == id);
  io.restart();
  io.run();
  CHECK(cleanups == 1);
}
