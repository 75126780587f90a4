import { describe, expect, it, vi } from 'vitest';
import { createLayers } from './layers';

describe('escape layers', () => {
  it('closes the one opened last, one per press, and says when nothing was open', () => {
    const layers = createLayers();
    const drawer = vi.fn();
    const dialog = vi.fn();
    const removeDrawer = layers.push(drawer);
    const removeDialog = layers.push(dialog);
    expect(layers.closeTop()).toBe(true);
    expect(dialog).toHaveBeenCalledTimes(1);
    expect(drawer).not.toHaveBeenCalled();
    removeDialog();
    expect(layers.closeTop()).toBe(true);
    expect(drawer).toHaveBeenCalledTimes(1);
    removeDrawer();
    expect(layers.closeTop()).toBe(false);
  });

  it('takes a layer off wherever it is', () => {
    const layers = createLayers();
    const first = vi.fn();
    const second = vi.fn();
    const removeFirst = layers.push(first);
    layers.push(second);
    removeFirst();
    removeFirst(); // twice is harmless
    expect(layers.size).toBe(1);
    layers.closeTop();
    expect(second).toHaveBeenCalledTimes(1);
    expect(first).not.toHaveBeenCalled();
  });
});
