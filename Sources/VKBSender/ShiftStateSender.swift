import VKBShift
