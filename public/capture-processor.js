// Forwards the microphone's samples from the audio thread in blocks of 2048 frames, each tagged
// with the AudioContext frame of its first sample, so the page can cut a take sample-exactly.
class CaptureProcessor extends AudioWorkletProcessor {
  constructor() {
    super();
    this.block = new Float32Array(2048);
    this.fill = 0;
    this.first = 0;
  }
  process(inputs) {
    const input = inputs[0] && inputs[0][0];
    const n = input ? input.length : 128;
    for (let i = 0; i < n; i++) {
      if (this.fill === 0) this.first = currentFrame + i;
      // No input channel (the source was disconnected): silence keeps the timeline continuous.
      this.block[this.fill++] = input ? input[i] : 0;
      if (this.fill === this.block.length) {
        this.port.postMessage({ frame: this.first, samples: this.block }, [this.block.buffer]);
        this.block = new Float32Array(2048);
        this.fill = 0;
      }
    }
    return true;
  }
}
registerProcessor('capture-processor', CaptureProcessor);
