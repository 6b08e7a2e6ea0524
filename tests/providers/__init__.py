"""Real third-party chat-completion servers (llama.cpp, LiteLLM) for the test-suite."""
