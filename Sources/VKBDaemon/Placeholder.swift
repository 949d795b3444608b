import VKBInput
