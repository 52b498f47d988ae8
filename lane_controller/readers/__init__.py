"""Serial RFID tag and electronic-seal readers: transport, frame codecs, drivers (a library)."""
