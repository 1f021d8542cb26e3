// asyncio's async generator finalization (CPython's InternalDocs/asyncio.md flowchart), in Asio: a
// generator broken off early and dropped has its cleanup, which awaits, run on its executor; one
// still alive at the end is closed by shutdown_asyncgens before the context goes.
#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <chrono>
#include <cstdio>
#include <exception>

namespace ag = async_generator;

// async def agen(): try: yield 1; yield 2 finally: await asyncio.sleep(...); print(...)
const auto agen = ag::make_generator_function<int>([](ag::context<int> co, const char* name) {
  std::exception_ptr raised;
  try {
    ag::yield_(co, 1);
    ag::yield_(co, 2);
  } catch (...) {
    raised = std::current_exception();  // the finally awaits: never inside a catch block
  }
  asio::steady_timer sleep(co.get_executor(), std::chrono::milliseconds(10));
  sleep.async_wait(co);
  std::printf("%s: finally executed\n", name);
  if (raised) std::rethrow_exception(raised);
});

int main() {
  asio::io_context io;
  ag::async_generator<int> still_open;
  asio::spawn(io, [&](asio::yield_context yield) {
    {
      auto first = agen(io, "first");  // first iteration: the context starts tracking it
      for (int item : ag::aiter(first, yield)) {
        std::printf("first: %d\n", item);
        break;  // not fully iterated
      }
    }  // no longer referenced: its aclose() is scheduled on its executor
    std::printf("first: dropped\n");

    still_open = agen(io, "second");
    std::printf("second: %d\n", still_open.anext(yield));

    // The loop shutting down: close every generator still alive, and wait for them.
    ag::shutdown_asyncgens(io, yield);
    std::printf("all asynchronous generators closed\n");
  }, asio::detached);
  io.run();
}
