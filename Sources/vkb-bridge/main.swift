print("vkb-bridge")
