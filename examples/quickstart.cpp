// The async_generator package's quickstart (an async generator, @asynccontextmanager, aclosing), line
// for line, with the same output as the Python original.
#include <async_generator.hpp>
#include <async_generator/compat/asio_all.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace ag = async_generator;

// @async_generator async def my_async_generator(limit)
const auto my_async_generator = ag::make_generator_function<int>([](ag::context<int> co, int limit) {
  asio::steady_timer timer(co.get_executor());
  for (int i = 0; i < limit; ++i) {
    timer.expires_after(std::chrono::milliseconds(10));
    timer.async_wait(co);  // await asyncio.sleep(0.01)
    ag::yield_(co, i);
  }
});

using resource = std::vector<std::string>;

// @asynccontextmanager @async_generator async def managed_resource()
const auto managed_resource =
    ag::asynccontextmanager(ag::make_generator_function<resource*>([](ag::context<resource*> co) {
      std::printf("\n[SETUP] Acquiring resource...\n");
      resource res;
      struct teardown {  // finally:
        resource& res;
        ~teardown() {
          std::printf("[TEARDOWN] Releasing resource.\n");
          res.clear();
        }
      } finally{res};
      ag::yield_(co, &res);
    }));

std::string repr(const resource& res) {
  std::string text = "[";
  for (const auto& item : res) text += (text.size() > 1 ? ", '" : "'") + item + "'";
  return text + "]";
}

int main() {
  asio::io_context io;
  asio::spawn(io, [&](asio::yield_context yield) {
    std::printf("--- Using async generator ---\n");
    auto numbers = my_async_generator(io, 3);
    for (int item : ag::aiter(numbers, yield)) std::printf("Consumed: %d\n", item);

    std::printf("\n--- Using async context manager ---\n");
    ag::async_with(managed_resource(io), yield, [](resource* res) {
      res->push_back("data");
      std::printf("Resource in context: %s\n", repr(*res).c_str());
    });
    std::printf("Resource out of context.\n");

    std::printf("\n--- Generator cleanup with aclosing ---\n");
    auto gen = my_async_generator(io, 5);
    ag::async_with(ag::aclosing(gen), yield, [&](ag::async_generator<int>& g) {
      g.anext(yield);  // consume the first item (0)
      std::printf("Partially consumed async generator, 'aclosing' will ensure cleanup.\n");
    });
    std::printf("Generator closed via aclosing.\n");
  }, asio::detached);
  io.run();
}
