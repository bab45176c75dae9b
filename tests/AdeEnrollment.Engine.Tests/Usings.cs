global using Xunit;
global using AdeEnrollment.Engine.Tests.TestSupport;
