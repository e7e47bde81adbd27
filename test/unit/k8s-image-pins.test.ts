/** The kubernetes target's default images are the ones the test cluster builds, under the same upstream names. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DEFAULT_HUB_IMAGE,
  DEFAULT_PROXY_IMAGE,
  DEFAULT_USER_IMAGE,
} from "../../src/config/kubernetes-images.js";
import { imagePins } from "../cluster/images.js";

describe("kubernetes image pins", () => {
  it("the config's defaults are the test cluster's images", () => {
    const pins = imagePins();
    assert.equal(DEFAULT_HUB_IMAGE, pins.python.image);
    assert.equal(DEFAULT_USER_IMAGE, pins.python.image);
    assert.equal(DEFAULT_PROXY_IMAGE, pins.proxy.image);
  });
});
